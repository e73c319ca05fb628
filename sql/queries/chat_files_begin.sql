-- POST /api/v2/chats/files, first: the file's row, before its pieces (chat_file_chunks_insert)
-- and its end (chat_files_finish), all in one transaction. Its digest is a placeholder of 16
-- random bytes, which no SHA-256 (32 bytes) can equal, until chatd_finish_file sets it.
-- $1 user id, $2 media type (judged from the bytes).
INSERT INTO chat_files (user_id, sha256, media_type, size)
VALUES ($1, uuid_send(gen_random_uuid()), $2, 0)
RETURNING id
