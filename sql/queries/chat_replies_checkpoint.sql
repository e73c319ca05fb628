-- The reply's progress: new parts, the message so far, and a heartbeat, in one write. Wakes
-- the readers when there are any; tells the writer whether to stop and whether to hurry.
-- $1 chat id, $2 message id, $3 new parts, $4 part count, $5 message, $6 the reply's channel.
UPDATE chat_replies
   SET parts = parts || $3, part_count = $4, message = $5::jsonb, heartbeat_at = now()
 WHERE chat_id = $1 AND message_id = $2 AND finished_at IS NULL
RETURNING cancel_requested, readers,
          CASE WHEN readers > 0 THEN pg_notify($6, '') END AS notified
