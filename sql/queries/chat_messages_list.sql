-- A batch of a chat's messages, oldest first (id breaks ties between messages stored in one
-- statement), from just after message $2 (0: from the first). GET …/messages streams a chat
-- batch by batch, so that a request holds one batch in memory, never the whole chat.
-- $1 chat id, $2 id of the previous batch's last message (0: none), $3 batch size.
SELECT m.id, m.content::text AS content
  FROM chat_messages m
 WHERE m.chat_id = $1
   AND ($2 = 0 OR (m.created_at, m.id) > (SELECT created_at, id FROM chat_messages WHERE id = $2))
 ORDER BY m.created_at, m.id
 LIMIT $3
