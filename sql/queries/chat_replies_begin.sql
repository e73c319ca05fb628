-- Claims the chat for a new reply unless one is running (a finished row is reused). The reply
-- starts cancelled when the chat was interrupted after its request arrived, $7 seconds before
-- this transaction began: the interrupt wins even when nothing ran yet when it came.
-- No row back: 409.
INSERT INTO chat_replies (chat_id, message_id, user_id, model, provider, worker, cancel_requested)
VALUES ($1, $2, $3, $4, $5, $6,
        EXISTS (SELECT 1 FROM chats
                 WHERE id = $1 AND interrupted_at >= now() - make_interval(secs => $7)))
ON CONFLICT (chat_id) DO UPDATE
   SET message_id = EXCLUDED.message_id, user_id = EXCLUDED.user_id, model = EXCLUDED.model,
       provider = EXCLUDED.provider, worker = EXCLUDED.worker, started_at = now(),
       heartbeat_at = now(), parts = '', part_count = 0, message = NULL,
       cancel_requested = EXCLUDED.cancel_requested, readers = 0, finished_at = NULL
 WHERE chat_replies.finished_at IS NOT NULL
RETURNING cancel_requested
