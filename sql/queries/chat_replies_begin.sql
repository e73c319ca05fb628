-- Claims the chat for a new reply, unless a live one holds it. No row back: 409.
INSERT INTO chat_replies (chat_id, message_id) VALUES ($1, $2)
ON CONFLICT (chat_id) DO UPDATE
   SET message_id = EXCLUDED.message_id, started_at = now(), heartbeat_at = now()
 WHERE chat_replies.heartbeat_at < now() - $3 * interval '1 second'
RETURNING chat_id
