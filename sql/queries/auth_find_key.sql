-- Authentication in one round trip: the API key and its user; and when the secret matches and
-- key and user are good, last_used moved (at most once a minute, whatever the request rate)
-- and one request counted against the user's rate limit.
-- $1 key id, $2 hex SHA-256 of the secret, $3 seconds per request (0: no limit), $4 burst.
--
-- The rate limit is GCRA: each admitted request moves rate_limits.tat by $3 seconds from
-- max(tat, now); a request is admitted while the new tat stays within $4 × $3 seconds of now.
-- ON CONFLICT … DO UPDATE locks the user's row and sees its latest version, so concurrent
-- requests from any number of workers and hosts are counted exactly.
WITH key AS (
    SELECT k.id, k.hashed_secret, k.expires_at, k.last_used,
           u.id AS user_id, u.status, u.is_admin,
           k.hashed_secret = decode($2, 'hex') AND k.expires_at > now()
               AND u.status = 'active' AS good
      FROM api_keys k
      JOIN users u ON u.id = k.user_id
     WHERE k.id = $1
), touched AS (
    UPDATE api_keys SET last_used = now()
     WHERE id = (SELECT id FROM key WHERE good)
       AND last_used < now() - interval '1 minute'
), admitted AS (
    INSERT INTO rate_limits AS r (user_id, tat)
    SELECT user_id, now() + make_interval(secs => $3::float8)
      FROM key
     WHERE good AND $3::float8 > 0
        ON CONFLICT (user_id) DO UPDATE
       SET tat = greatest(r.tat, now()) + make_interval(secs => $3::float8)
     WHERE greatest(r.tat, now()) + make_interval(secs => $3::float8)
           <= now() + make_interval(secs => $3::float8 * $4::float8)
    RETURNING 1
)
SELECT encode(key.hashed_secret, 'hex') AS hashed_secret,
       chatd_time(key.expires_at)       AS expires_at,
       key.expires_at <= now()          AS expired,
       key.user_id                      AS user_id,
       key.status                       AS status,
       key.is_admin                     AS is_admin,
       -- Refused by the rate limit: the seconds until a request would be admitted (one interval
       -- when the user's row is not visible yet: a concurrent request is creating it).
       -- Null: admitted.
       CASE WHEN key.good AND $3::float8 > 0 AND NOT EXISTS (SELECT FROM admitted)
            THEN coalesce((SELECT extract(epoch FROM r.tat - now())
                                  - $3::float8 * ($4::float8 - 1)
                             FROM rate_limits r
                            WHERE r.user_id = key.user_id), $3::float8)
       END                              AS retry_after
  FROM key
