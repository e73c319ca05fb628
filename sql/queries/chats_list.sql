-- The caller's chats, newest first, in the statement that authenticates the caller
-- (chatd_authenticate, migration 0008): every row carries the key's columns, and there are
-- chats only when the caller was admitted (one row with a NULL id: none).
-- $1 key id, $2 hex SHA-256 of the secret, $3 seconds per request (0: no limit), $4 burst.
SELECT a.*, c.id, chatd_time(c.created_at) AS created_at, chatd_time(c.updated_at) AS updated_at,
       c.title,
       EXISTS (SELECT 1 FROM chat_replies r WHERE r.chat_id = c.id AND r.finished_at IS NULL)
           AS running
  FROM chatd_authenticate($1, $2, $3, $4) a
  LEFT JOIN chats c ON a.admitted AND c.owner_id = a.key_user_id
 ORDER BY c.created_at DESC, c.id DESC
