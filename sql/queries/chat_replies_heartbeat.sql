-- The heartbeat of the replies one worker runs, every second from a thread of its own: a reply
-- is alive while its worker is, whatever its request thread waits on (a client that reads
-- slowly, a slow checkpoint), and only a worker that died lets it go stale
-- (chat_replies_recover.sql: 5 s). A reply's checkpoints (every second) move the heartbeat
-- too, so this writes only the rows they have not moved for 2 s: no second write per second.
-- The time of the write (clock_timestamp), as in chat_replies_checkpoint.sql.
-- $1 the chat ids of the worker's running replies, as an array literal ('{id,id}').
UPDATE chat_replies SET heartbeat_at = clock_timestamp()
 WHERE chat_id = ANY ($1::uuid[]) AND finished_at IS NULL
   AND heartbeat_at < now() - interval '2 seconds'
