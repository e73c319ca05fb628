-- POST /api/v2/chats/files: stores the upload (chatd_store_file, migration 0016).
-- $1 user id, $2 media type (judged from the bytes), $3 the bytes (binary), $4 the user's
-- storage limit in bytes.
SELECT outcome, id, size, chatd_time(created_at) AS created_at
  FROM chatd_store_file($1, $2, $3, $4)
