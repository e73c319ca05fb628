-- Every reply writes two messages and moves its chat's updated_at twice; the search columns and
-- the retention index of migration 0009 had made those writes 2-2.5 times dearer (pgbench, one
-- client, a short message: 0.15-0.20 ms an INSERT before 0009, 0.30-0.40 after), most of
-- PostgreSQL's part in starting a reply.
--
-- chatd_message_text as PL/pgSQL: a SQL function whose body holds a subquery is not inlined,
-- and its plan does not outlive the transaction that called it, so the search trigger planned
-- it again for every message; PL/pgSQL keeps the plan for the session. Same text as before.
CREATE OR REPLACE FUNCTION chatd_message_text(content jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  text_parts text;
BEGIN
  IF jsonb_typeof(content->'parts') = 'array' THEN
    SELECT string_agg(part->>'text', ' ') INTO text_parts
      FROM jsonb_array_elements(content->'parts') AS part
     WHERE part->>'type' = 'text';
  END IF;
  RETURN left(coalesce(text_parts, content->>'content', ''), 100000);
END $$;

-- The retention index keyed on updated_at made every update of a chat's updated_at a non-HOT
-- update: a new entry in each of the chats' indexes, the title's words in the search index
-- among them. Retention now counts from when the chat was archived (archived_at, set by
-- chats_update.sql), which only archiving changes: a message leaves the indexes alone.
ALTER TABLE chats ADD COLUMN archived_at timestamptz;
UPDATE chats SET archived_at = updated_at WHERE archived;
DROP INDEX chats_archived_updated_idx;
CREATE INDEX chats_archived_at_idx ON chats (archived_at) WHERE archived;
