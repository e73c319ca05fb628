SELECT c.id, chatd_time(c.created_at) AS created_at, chatd_time(c.updated_at) AS updated_at,
       c.title,
       EXISTS (SELECT 1 FROM chat_replies r WHERE r.chat_id = c.id AND r.finished_at IS NULL)
           AS running
  FROM chats c
 WHERE c.owner_id = $1
 ORDER BY c.created_at DESC, c.id DESC
