-- One piece of an upload (see chat_files_begin.sql). $1 file id, $2 its number (from 0), $3 the
-- bytes (binary).
INSERT INTO chat_file_chunks (file_id, n, data) VALUES ($1, $2, $3)
