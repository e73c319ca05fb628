-- The reply ended: its last parts, the stored assistant message (when it has any part, with how
-- it ended: "finish_reason", and "interrupted": true when it was stopped before its end) with
-- the chat's updated_at and stored_bytes, and the row marked finished, together.
-- $1 chat id, $2 message id, $3 characters of the parts written before, $4 the last parts,
-- $5 the message (NULL: none is stored), $6 finish reason, $7 and $8 prompt and completion
-- tokens (NULL: unknown), $9 the reply's channel, $10 whether it was interrupted.
WITH reply AS (
    UPDATE chat_replies SET finished_at = now(), heartbeat_at = now()
     WHERE chat_id = $1 AND message_id = $2 AND finished_at IS NULL
    RETURNING chat_id, user_id, model, provider, readers
), appended AS (
    INSERT INTO chat_reply_parts (chat_id, at, parts)
    SELECT chat_id, $3, $4 FROM reply WHERE $4 <> ''
    ON CONFLICT (chat_id, at) DO UPDATE SET parts = EXCLUDED.parts
), stored AS (
    INSERT INTO chat_messages (chat_id, model, provider, content, finish_reason, prompt_tokens,
                               completion_tokens)
    SELECT chat_id, model, provider,
           $5::jsonb || jsonb_build_object('finish_reason', $6::text)
               || CASE WHEN $10::boolean THEN '{"interrupted": true}'::jsonb ELSE '{}' END,
           $6, $7::integer, $8::integer
      FROM reply
     WHERE jsonb_array_length($5::jsonb->'parts') > 0
    RETURNING chat_id, created_at, octet_length(content::text) AS bytes
), touched AS (
    UPDATE chats SET updated_at = stored.created_at, stored_bytes = stored_bytes + stored.bytes
      FROM stored
     WHERE chats.id = stored.chat_id
)
-- The chat is idle again: its readers (the reply's channel) and the owner's watchers hear it.
SELECT pg_notify($9, ''), chatd_chat_event(user_id, chat_id, 'status_change') FROM reply
