SELECT id, chatd_time(created_at) AS created_at, chatd_time(updated_at) AS updated_at, title
  FROM chats
 WHERE owner_id = $1
 ORDER BY created_at DESC, id DESC
