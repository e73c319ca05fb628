-- One chat, in the statement that authenticates the caller (chatd_authenticate, migration
-- 0008): the key's columns, and the chat's when the caller was admitted and the chat exists
-- (whether the caller may see it is the caller's to judge: an admin may read any chat).
-- With $6, also the chat's messages, oldest first, as one text: their JSON joined by commas
-- (NULL: none), when the caller may read them (owner or admin) and they take at most $7 bytes;
-- a larger chat is read in batches (chat_messages_list.sql).
-- $1 key id, $2 hex SHA-256 of the secret, $3 seconds per request (0: no limit), $4 burst,
-- $5 chat id, $6 whether to read the messages, $7 at most so many bytes of them.
SELECT a.*, c.id, c.owner_id, chatd_time(c.created_at) AS created_at,
       chatd_time(c.updated_at) AS updated_at, c.title, c.archived, c.pin_order,
       c.labels::text AS labels, c.stored_bytes,
       EXISTS (SELECT 1 FROM chat_replies r WHERE r.chat_id = c.id AND r.finished_at IS NULL)
           AS running,
       (SELECT string_agg(m.content::text, ',' ORDER BY m.created_at, m.id)
          FROM chat_messages m
         WHERE $6::boolean AND m.chat_id = c.id AND c.stored_bytes <= $7::bigint
           AND (c.owner_id = a.key_user_id OR a.key_user_is_admin)) AS messages
  FROM chatd_authenticate($1, $2, $3, $4) a
  LEFT JOIN chats c ON a.admitted AND c.id = $5
