SELECT id, owner_id, chatd_time(created_at) AS created_at, chatd_time(updated_at) AS updated_at, title
  FROM chats
 WHERE id = $1
