SELECT id, username, coalesce(email, '') AS email, status, is_admin, chatd_time(created_at) AS created_at
  FROM users
 ORDER BY username
