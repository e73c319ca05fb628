-- Replies' progress: for each, the new parts, the message so far and the heartbeat, in one
-- write, for any number of replies of one worker in one statement (the reply loop checkpoints
-- all its replies at once; a thread of its own one). Wakes the readers of a reply that has any;
-- tells each writer whether to stop and whether to hurry. A reply that no longer runs here
-- (finished, or recovered as dead) has no row back. The heartbeat is the time of the write
-- (clock_timestamp), not of the statement's start: a checkpoint slow to get its row must not
-- leave a heartbeat that recovery (5 s) already takes for stale.
-- $1 a JSON array of {"chat_id", "message_id", "parts" (new data-stream lines), "part_count",
--    "message" (the UI message; null: keep the last one)},
-- $2 the prefix of the replies' channels (sql/channels.hpp).
WITH progress AS (
    SELECT *
      FROM json_to_recordset($1::json)
           AS p(chat_id uuid, message_id text, parts text, part_count integer, message jsonb)
)
UPDATE chat_replies r
   SET parts = r.parts || p.parts, part_count = p.part_count,
       message = COALESCE(p.message, r.message), heartbeat_at = clock_timestamp()
  FROM progress p
 WHERE r.chat_id = p.chat_id AND r.message_id = p.message_id AND r.finished_at IS NULL
RETURNING r.chat_id, r.cancel_requested, r.readers,
          CASE WHEN r.readers > 0 THEN pg_notify($2 || replace(r.chat_id::text, '-', ''), '') END
              AS notified
