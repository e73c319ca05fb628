-- Replies whose worker died (no heartbeat for 5 s), locked for the recovery that finishes them
-- (ReplyStore::recover: the message rebuilt from their parts, then chat_replies_finish.sql in
-- the same transaction). Any worker runs this; SKIP LOCKED lets several run it at once.
SELECT r.chat_id, r.message_id, chatd_time(r.started_at) AS started_at,
       coalesce((SELECT string_agg(p.parts, '' ORDER BY p.at)
                   FROM chat_reply_parts p WHERE p.chat_id = r.chat_id), '') AS parts
  FROM chat_replies r
 WHERE r.finished_at IS NULL AND r.heartbeat_at < now() - interval '5 seconds'
   FOR UPDATE OF r SKIP LOCKED
