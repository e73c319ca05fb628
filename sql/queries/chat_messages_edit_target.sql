-- The user message an edit starts from (PATCH …/messages/{message}): no row when the chat has
-- no user message of that AI SDK id (the oldest, when a client reused one, as
-- chat_messages_append.sql takes it); else how many bytes of JSON it and every later message
-- take: what the edit deletes.
-- $1 chat id, $2 the message's id.
WITH target AS (
    SELECT created_at, id FROM chat_messages
     WHERE chat_id = $1 AND message_id = $2 AND content->>'role' = 'user'
     ORDER BY created_at, id
     LIMIT 1
)
SELECT (SELECT coalesce(sum(octet_length(m.content::text)), 0)
          FROM chat_messages m
         WHERE m.chat_id = $1 AND (m.created_at, m.id) >= (target.created_at, target.id))
           AS bytes
  FROM target
