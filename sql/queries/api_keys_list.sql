SELECT k.id, k.name, chatd_time(k.created_at) AS created_at, chatd_time(k.expires_at) AS expires_at,
       chatd_time(k.last_used) AS last_used
  FROM api_keys k
  JOIN users u ON u.id = k.user_id
 WHERE u.username = $1
 ORDER BY k.created_at, k.id
