-- Replies whose worker died (no heartbeat for 5 s): the partial message is stored with
-- finish reason error (and "interrupted": true on it) and the chat is free again. Any worker runs this; SKIP LOCKED lets
-- several run it at once.
-- $1 the prefix of the replies' channels: each is the prefix and the chat id without dashes
-- (sql/channels.hpp).
WITH dead AS (
    SELECT chat_id, message_id FROM chat_replies
     WHERE finished_at IS NULL AND heartbeat_at < now() - interval '5 seconds'
       FOR UPDATE SKIP LOCKED
), reply AS (
    UPDATE chat_replies r SET finished_at = now()
      FROM dead WHERE r.chat_id = dead.chat_id AND r.message_id = dead.message_id
    RETURNING r.chat_id, r.user_id, r.model, r.provider, r.message
), stored AS (
    INSERT INTO chat_messages (chat_id, model, provider, content, finish_reason)
    SELECT chat_id, model, provider,
           message || '{"finish_reason": "error", "interrupted": true}'::jsonb, 'error'
      FROM reply
     WHERE message IS NOT NULL AND jsonb_array_length(message->'parts') > 0
    RETURNING chat_id, created_at, octet_length(content::text) AS bytes
), touched AS (
    UPDATE chats SET updated_at = stored.created_at, stored_bytes = stored_bytes + stored.bytes
      FROM stored
     WHERE chats.id = stored.chat_id
)
SELECT chat_id, pg_notify($1 || replace(chat_id::text, '-', ''), ''),
       chatd_chat_event(user_id, chat_id, 'status_change')
  FROM reply
