-- What a reader has not seen yet: the parts after character $2, and whether the reply ended
-- (one snapshot: a finish writes its last parts and ends the reply together). The rows from
-- the one that holds character $2 on.
SELECT r.message_id, r.finished_at IS NOT NULL AS finished, chatd_time(r.started_at) AS started_at,
       coalesce((SELECT string_agg(substr(p.parts, (greatest($2 - p.at, 0) + 1)::integer), ''
                                   ORDER BY p.at)
                   FROM chat_reply_parts p
                  WHERE p.chat_id = r.chat_id
                    AND p.at >= (SELECT coalesce(max(q.at), 0) FROM chat_reply_parts q
                                  WHERE q.chat_id = r.chat_id AND q.at <= $2)), '') AS parts
  FROM chat_replies r
 WHERE r.chat_id = $1
