SELECT c.id, c.owner_id, chatd_time(c.created_at) AS created_at,
       chatd_time(c.updated_at) AS updated_at, c.title, c.stored_bytes,
       EXISTS (SELECT 1 FROM chat_replies r WHERE r.chat_id = c.id AND r.finished_at IS NULL)
           AS running
  FROM chats c
 WHERE c.id = $1
