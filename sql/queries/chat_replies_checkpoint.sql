-- Replies' progress: for each, the new parts appended as a row of their own (no rewrite of what
-- was written before) and the heartbeat, for any number of replies of one worker in one
-- statement (the reply loop checkpoints all its replies at once). Wakes the readers of a reply
-- that has any; tells each writer whether to stop and whether to hurry. A reply that no longer
-- runs here (finished, or recovered as dead) has no row back, and nothing is written for it.
-- The heartbeat is the time of the write (clock_timestamp), not of the statement's start: a
-- checkpoint slow to get its row must not leave a heartbeat that recovery (5 s) already takes
-- for stale.
-- $1 a JSON array of {"chat_id", "message_id", "at" (characters of the reply's parts written
--    before), "parts" (the data-stream lines since), "call" (the model call in flight:
--    sql::OpenCall, or null)},
-- $2 the prefix of the replies' channels (sql/channels.hpp).
WITH progress AS (
    SELECT *
      FROM json_to_recordset($1::json)
           AS p(chat_id uuid, message_id text, at bigint, parts text, call jsonb)
), reply AS (
    UPDATE chat_replies r SET heartbeat_at = clock_timestamp(), open_call = p.call
      FROM progress p
     WHERE r.chat_id = p.chat_id AND r.message_id = p.message_id AND r.finished_at IS NULL
    RETURNING r.chat_id, r.cancel_requested, r.readers
), appended AS (
    -- The same place again: the last checkpoint's connection broke, it may have been written.
    INSERT INTO chat_reply_parts (chat_id, at, parts)
    SELECT p.chat_id, p.at, p.parts FROM progress p JOIN reply USING (chat_id)
     WHERE p.parts <> ''
    ON CONFLICT (chat_id, at) DO UPDATE SET parts = EXCLUDED.parts
)
SELECT chat_id, cancel_requested, readers,
       CASE WHEN readers > 0 THEN pg_notify($2 || replace(chat_id::text, '-', ''), '') END
           AS notified
  FROM reply
