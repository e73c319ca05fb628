-- chatd users budget NAME SPEC|none: the user's own budget ($2 NULL: none at all), in place of
-- the default. No row back: no such user.
-- $1 username, $2 period, $3 limit in micro-dollars.
INSERT INTO user_budgets AS b (user_id, period, limit_micros)
SELECT id, $2, $3 FROM users WHERE username = $1
ON CONFLICT (user_id) DO UPDATE
   SET period = EXCLUDED.period, limit_micros = EXCLUDED.limit_micros, updated_at = now()
RETURNING b.user_id
