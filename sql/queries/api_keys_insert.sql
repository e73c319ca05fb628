INSERT INTO api_keys (id, hashed_secret, user_id, name, expires_at)
SELECT $1, decode($2, 'hex'), u.id, $4, now() + $5 * interval '1 second'
  FROM users u
 WHERE u.username = $3
RETURNING chatd_time(expires_at) AS expires_at
