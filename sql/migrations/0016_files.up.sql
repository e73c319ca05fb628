-- Files (API.md §10): uploaded once, referenced by URL from any of their owner's messages, kept
-- in PostgreSQL so that every host sees every file. One row per user and content (SHA-256):
-- the same bytes uploaded again are the same file.
CREATE TABLE chat_files (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256     bytea       NOT NULL,
    media_type text        NOT NULL,
    size       bigint      NOT NULL,
    data       bytea       NOT NULL,
    -- The last upload of these bytes: an unreferenced file goes 24 hours after it.
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, sha256)
);
-- Images and PDFs are compressed already: stored out of line as they are.
ALTER TABLE chat_files ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX chat_files_created_idx ON chat_files (created_at);

-- Which stored messages reference which files (their experimental_attachments): a file no
-- message references is deleted 24 hours after its upload (chat_files_prune.sql). Deleting a
-- message (a chat, an edit) drops its references; the file then waits for that rule.
CREATE TABLE chat_message_files (
    message_id bigint NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    file_id    uuid   NOT NULL REFERENCES chat_files (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, file_id)
);
CREATE INDEX chat_message_files_file_idx ON chat_message_files (file_id);

-- An upload: the file, or the same bytes the user uploaded before (their upload time renewed),
-- unless it would take the user's files past p_max_bytes ('full', no row written). Under the
-- user's lock: two uploads at once cannot pass the limit together.
CREATE FUNCTION chatd_store_file(p_user uuid, p_media_type text, p_data bytea,
                                 p_max_bytes bigint,
                                 OUT outcome text, OUT id uuid, OUT size bigint,
                                 OUT created_at timestamptz)
    LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  digest bytea := sha256(p_data);
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('chatd_user_' || p_user::text, 0));
  UPDATE chat_files f SET created_at = now()
   WHERE f.user_id = p_user AND f.sha256 = digest
  RETURNING 'stored', f.id, f.size, f.created_at INTO outcome, id, size, created_at;
  IF FOUND THEN
    RETURN;
  END IF;
  IF (SELECT coalesce(sum(f.size), 0) FROM chat_files f WHERE f.user_id = p_user)
       + octet_length(p_data) > p_max_bytes THEN
    outcome := 'full';
    RETURN;
  END IF;
  INSERT INTO chat_files AS f (user_id, sha256, media_type, size, data)
  VALUES (p_user, digest, p_media_type, octet_length(p_data), p_data)
  RETURNING 'stored', f.id, f.size, f.created_at INTO outcome, id, size, created_at;
END $$;
