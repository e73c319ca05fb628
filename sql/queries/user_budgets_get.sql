-- chatd users budget NAME: the user's budget now and what they spent in its period; `own`:
-- theirs rather than the default. No row back: no such user.
-- $1 username, $2 and $3 the default budget's period and limit in micro-dollars (NULL: none).
SELECT EXISTS (SELECT FROM user_budgets b WHERE b.user_id = u.id) AS own,
       s.period AS budget_period, s.limit_micros AS budget_limit_micros,
       s.spent_micros AS budget_spent_micros, chatd_time(s.resets_at) AS budget_resets_at
  FROM users u, chatd_budget(u.id, $2, $3) s
 WHERE u.username = $1
