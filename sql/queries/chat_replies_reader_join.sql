-- A reader joins the running reply unless $3 follow it already; no row back when it did not
-- (full, finished, or another reply by now).
UPDATE chat_replies SET readers = readers + 1
 WHERE chat_id = $1 AND message_id = $2 AND finished_at IS NULL AND readers < $3
RETURNING readers
