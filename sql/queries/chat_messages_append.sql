-- A POST's user message, in one round trip: stores it, moves the chat's updated_at to its time,
-- and returns the newest $8 messages stored before it (newest first; what the model sees is
-- cut from these, so the cost does not grow with the chat) and whether the chat held a user
-- message before (its first one gets a title). The SELECT does not see the row the WITH
-- inserts: a data-modifying WITH runs to completion but is invisible to the rest of its
-- statement. The EXISTS is evaluated once and stops at the first user message, normally the
-- chat's oldest row.
WITH message AS (
    INSERT INTO chat_messages (chat_id, model, provider, content, finish_reason, prompt_tokens,
                               completion_tokens)
    VALUES ($1, $2, $3, $4::jsonb, NULLIF($5, ''), NULLIF($6, '')::integer,
            NULLIF($7, '')::integer)
    RETURNING created_at
), touched AS (
    UPDATE chats SET updated_at = (SELECT created_at FROM message) WHERE id = $1
)
SELECT content::text AS content,
       EXISTS (SELECT 1
                 FROM chat_messages AS earlier
                WHERE earlier.chat_id = $1 AND earlier.content->>'role' = 'user') AS has_user
  FROM chat_messages
 WHERE chat_id = $1
 ORDER BY created_at DESC, id DESC
 LIMIT $8
