-- POST /api/v2/chats/files, last: the upload stored, or the same bytes found, or refused as
-- past the user's storage limit (chatd_finish_file, migration 0017).
-- $1 user id, $2 the file begun (chat_files_begin.sql), $3 its SHA-256, $4 its size, $5 the
-- user's storage limit in bytes.
SELECT outcome, id, size, chatd_time(created_at) AS created_at
  FROM chatd_finish_file($1, $2, $3, $4, $5)
