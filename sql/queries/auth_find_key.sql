-- The API key and its user, for authentication (one round trip).
SELECT encode(k.hashed_secret, 'hex') AS hashed_secret,
       chatd_time(k.expires_at)       AS expires_at,
       k.expires_at <= now()          AS expired,
       k.last_used < now() - interval '1 minute' AS touch_due,
       u.id                           AS user_id,
       u.status                       AS status,
       u.is_admin                     AS is_admin
  FROM api_keys k
  JOIN users u ON u.id = k.user_id
 WHERE k.id = $1
