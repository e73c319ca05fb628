-- Asks the running reply to stop; its worker hears it at once (NOTIFY) or at its next
-- checkpoint. $1 chat id, $2 the cancel channel.
UPDATE chat_replies SET cancel_requested = true
 WHERE chat_id = $1 AND finished_at IS NULL
RETURNING pg_notify($2, chat_id::text)
