-- The reply ended: the last parts, the stored assistant message (when it has any part) with
-- the chat's updated_at, and the row marked finished, together.
WITH reply AS (
    UPDATE chat_replies
       SET parts = parts || $3, part_count = $4, message = $5::jsonb, finished_at = now(),
           heartbeat_at = now()
     WHERE chat_id = $1 AND message_id = $2 AND finished_at IS NULL
    RETURNING chat_id, model, provider, message, readers
), stored AS (
    INSERT INTO chat_messages (chat_id, model, provider, content, finish_reason, prompt_tokens,
                               completion_tokens)
    SELECT chat_id, model, provider, message, NULLIF($6, ''), NULLIF($7, '')::integer,
           NULLIF($8, '')::integer
      FROM reply
     WHERE jsonb_array_length(message->'parts') > 0
    RETURNING chat_id, created_at
), touched AS (
    UPDATE chats SET updated_at = stored.created_at FROM stored WHERE chats.id = stored.chat_id
)
SELECT pg_notify('chatd_reply_' || replace(chat_id::text, '-', ''), '') FROM reply
