-- One chat, in the statement that authenticates the caller (chatd_authenticate, migration
-- 0008): the key's columns, and the chat's when the caller was admitted and the chat exists
-- (whether the caller may see it is the caller's to judge: an admin may read any chat).
-- With $6 > 0, also the chat's first $6 messages (oldest first, one row each; NULL message
-- columns: none), or all of them when the chat's messages take at most $7 bytes of JSON.
-- $1 key id, $2 hex SHA-256 of the secret, $3 seconds per request (0: no limit), $4 burst,
-- $5 chat id.
SELECT a.*, c.id, c.owner_id, chatd_time(c.created_at) AS created_at,
       chatd_time(c.updated_at) AS updated_at, c.title, c.stored_bytes,
       EXISTS (SELECT 1 FROM chat_replies r WHERE r.chat_id = c.id AND r.finished_at IS NULL)
           AS running,
       m.id AS message_id, m.content AS message
  FROM chatd_authenticate($1, $2, $3, $4) a
  LEFT JOIN chats c ON a.admitted AND c.id = $5
  LEFT JOIN LATERAL (
      SELECT m.id, m.created_at, m.content::text AS content
        FROM chat_messages m
       WHERE $6::integer > 0 AND m.chat_id = c.id
         AND (c.owner_id = a.key_user_id OR a.key_user_is_admin)
       ORDER BY m.created_at, m.id
       LIMIT CASE WHEN c.stored_bytes <= $7::bigint THEN NULL ELSE $6::integer END
  ) m ON true
 ORDER BY m.created_at, m.id
