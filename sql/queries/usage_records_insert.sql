-- A model call's usage (sql::UsageStore::record), and the user's budget with this call counted,
-- which decides whether the reply may make another: chatd_record_call (migration 0015).
-- $1 user, $2 chat, $3 message id, $4 kind (step, title), $5 model, $6 provider, $7-$11 input,
-- output, cache-read, cache-write and reasoning tokens (NULL: not reported), $12 cost in
-- micro-dollars (NULL: no price), $13 and $14 the default budget's period and limit (NULL: none),
-- $15 a step's number among its reply's calls (NULL: a title's).
SELECT b.period AS budget_period, b.limit_micros AS budget_limit_micros,
       b.spent_micros AS budget_spent_micros, chatd_time(b.resets_at) AS budget_resets_at
  FROM chatd_record_call($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) b
