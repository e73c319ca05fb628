-- Asks the running reply to stop; its worker hears it at once (NOTIFY) or at its next
-- checkpoint. The time goes on the chat too, for a reply whose request came before this
-- interrupt but is not claimed yet (chatd_claim_reply). A row back: a reply was running.
-- $1 chat id, $2 the cancel channel.
WITH noted AS (
    UPDATE chats SET interrupted_at = now() WHERE id = $1
)
UPDATE chat_replies SET cancel_requested = true
 WHERE chat_id = $1 AND finished_at IS NULL
RETURNING pg_notify($2, chat_id::text)
