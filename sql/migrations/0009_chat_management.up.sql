-- Chat management (API.md §8): archived, pinned and labelled chats; titles a user set, which a
-- generated title never replaces; a full-text index over titles and the text of messages, kept
-- by triggers as rows are stored; the AI SDK id of every message, for message cursors and
-- edits.

ALTER TABLE chats
    ADD COLUMN archived  boolean NOT NULL DEFAULT false,
    ADD COLUMN pin_order integer NOT NULL DEFAULT 0 CHECK (pin_order >= 0),
    ADD COLUMN labels    jsonb   NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
    ADD COLUMN title_set boolean NOT NULL DEFAULT false,  -- by PATCH
    ADD COLUMN search    tsvector;

ALTER TABLE chat_messages
    ADD COLUMN message_id text GENERATED ALWAYS AS (content->>'id') STORED,
    ADD COLUMN search     tsvector;

-- The text search configuration of every vector and query: 'simple' until the
-- search-language option names another (sql/search_language.cpp redefines this function and
-- rebuilds the vectors, at start-up).
CREATE FUNCTION chatd_search_config() RETURNS regconfig
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN 'simple'::regconfig;

-- What of a UI message is searched: its text parts (the `content` string when it has none),
-- cut at 100,000 characters so that no message can make a vector over PostgreSQL's 1 MB limit.
CREATE FUNCTION chatd_message_text(content jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN left(coalesce(
        (SELECT string_agg(part->>'text', ' ')
           FROM jsonb_array_elements(CASE jsonb_typeof(content->'parts')
                                       WHEN 'array' THEN content->'parts'
                                       ELSE '[]'::jsonb END) AS part
          WHERE part->>'type' = 'text'),
        content->>'content', ''), 100000);

CREATE FUNCTION chatd_chats_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search := to_tsvector(chatd_search_config(), NEW.title);
  RETURN NEW;
END $$;
CREATE TRIGGER chats_search BEFORE INSERT OR UPDATE OF title ON chats
    FOR EACH ROW EXECUTE FUNCTION chatd_chats_search();

CREATE FUNCTION chatd_chat_messages_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search := to_tsvector(chatd_search_config(), chatd_message_text(NEW.content));
  RETURN NEW;
END $$;
CREATE TRIGGER chat_messages_search BEFORE INSERT OR UPDATE OF content ON chat_messages
    FOR EACH ROW EXECUTE FUNCTION chatd_chat_messages_search();

UPDATE chats SET search = to_tsvector(chatd_search_config(), title);
UPDATE chat_messages SET search = to_tsvector(chatd_search_config(), chatd_message_text(content));

CREATE INDEX chats_search_idx ON chats USING gin (search);
CREATE INDEX chat_messages_search_idx ON chat_messages USING gin (search);
CREATE INDEX chat_messages_message_id_idx ON chat_messages (chat_id, message_id);

-- GET /api/v2/chats: one owner's chats, pinned first by pin_order, then newest first.
DROP INDEX chats_owner_created_idx;
CREATE INDEX chats_owner_order_idx
    ON chats (owner_id, archived, (pin_order = 0), pin_order, created_at DESC, id DESC);
-- Retention: archived chats by age.
CREATE INDEX chats_archived_updated_idx ON chats (updated_at) WHERE archived;
