-- An upload goes to PostgreSQL as it comes, in pieces of at most 256 KiB (chat_file_chunks),
-- so that no process holds a whole file on its way: not chatd, not libpq's send buffer (which
-- keeps the size of its largest message for the life of its connection). The file's row is
-- written first, with a placeholder digest, and completed by chatd_finish_file once every
-- piece is in, in the same transaction.
CREATE TABLE chat_file_chunks (
    file_id uuid    NOT NULL REFERENCES chat_files (id) ON DELETE CASCADE,
    n       integer NOT NULL,
    data    bytea   NOT NULL,
    PRIMARY KEY (file_id, n)
);
-- Images and PDFs are compressed already: stored out of line as they are.
ALTER TABLE chat_file_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- Only added to, as every migration (README "Upgrade"): a file stored whole before keeps its
-- bytes in chat_files.data, which a piecewise upload leaves empty, and readers take the pieces
-- where there are any, else that column; chatd_store_file stays for the hosts not yet upgraded.
ALTER TABLE chat_files ALTER COLUMN data SET DEFAULT ''::bytea;

-- The end of an upload whose pieces are in (the row p_file, written in this transaction): the
-- file, or the same bytes the user uploaded before (their upload time renewed; p_file goes),
-- unless it would take the user's files past p_max_bytes ('full'; p_file goes). Under the
-- user's lock: two uploads at once cannot pass the limit together.
CREATE FUNCTION chatd_finish_file(p_user uuid, p_file uuid, p_sha256 bytea, p_size bigint,
                                  p_max_bytes bigint,
                                  OUT outcome text, OUT id uuid, OUT size bigint,
                                  OUT created_at timestamptz)
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('chatd_user_' || p_user::text, 0));
  UPDATE chat_files f SET created_at = now()
   WHERE f.user_id = p_user AND f.sha256 = p_sha256
  RETURNING 'stored', f.id, f.size, f.created_at INTO outcome, id, size, created_at;
  IF FOUND THEN
    DELETE FROM chat_files f WHERE f.id = p_file;
    RETURN;
  END IF;
  IF (SELECT coalesce(sum(f.size), 0) FROM chat_files f WHERE f.user_id = p_user)
       + p_size > p_max_bytes THEN
    DELETE FROM chat_files f WHERE f.id = p_file;
    outcome := 'full';
    RETURN;
  END IF;
  UPDATE chat_files f SET sha256 = p_sha256, size = p_size, created_at = now()
   WHERE f.id = p_file
  RETURNING 'stored', f.id, f.size, f.created_at INTO outcome, id, size, created_at;
END $$;
