-- Files of one user by id (GET /api/v2/chats/files/{file}, and the attachments of the messages
-- a reply sends its model): another user's, or none, gives no row. `with_data`: the bytes too
-- (else an empty data).
-- $1 user id, $2 the ids (a uuid[] literal), $3 with_data.
SELECT id, media_type, size, CASE WHEN $3 THEN data ELSE ''::bytea END AS data
  FROM chat_files
 WHERE user_id = $1 AND id = ANY ($2::uuid[])
