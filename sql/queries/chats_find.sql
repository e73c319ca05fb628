-- One chat's state for its owner's watchers (GET /api/v2/chats/watch), who are authenticated
-- already; no row when it is not theirs (any more).
-- $1 chat id, $2 owner.
SELECT c.id, chatd_time(c.created_at) AS created_at, chatd_time(c.updated_at) AS updated_at,
       c.title, c.archived, c.pin_order, c.labels::text AS labels,
       EXISTS (SELECT 1 FROM chat_replies r WHERE r.chat_id = c.id AND r.finished_at IS NULL)
           AS running
  FROM chats c
 WHERE c.id = $1 AND c.owner_id = $2
