-- GET /api/v2/chats/cost/{user}/summary (API.md §9): a user's model calls from $2 to $3 (NULL:
-- the current calendar month in UTC) summed three ways in one pass: in all (the row with
-- neither per_model nor per_chat), per model and per chat (a deleted chat's calls under a NULL
-- chat id), the dearest first. `known`: the user exists. Each row also holds the user's budget
-- now (chatd_budget: NULL when none), whatever the range.
-- $1 user id, $2 start, $3 end (RFC 3339, checked by the caller), $4 and $5 the default
-- budget's period and limit in micro-dollars (NULL: none).
WITH bounds AS (
    SELECT * FROM chatd_usage_range($2, $3)
), calls AS (
    SELECT u.*
      FROM usage_records u, bounds b
     WHERE u.user_id = $1 AND u.created_at >= b.start_date AND u.created_at < b.end_date
)
SELECT chatd_time(b.start_date) AS start_date, chatd_time(b.end_date) AS end_date,
       EXISTS (SELECT FROM users WHERE id = $1) AS known,
       budget.period AS budget_period, budget.limit_micros AS budget_limit_micros,
       budget.spent_micros AS budget_spent_micros,
       chatd_time(budget.resets_at) AS budget_resets_at, s.*
  FROM bounds b
  CROSS JOIN chatd_budget($1, $4, $5) budget
  LEFT JOIN LATERAL (
      SELECT grouping(c.model, c.provider) = 0 AS per_model, grouping(c.chat_id) = 0 AS per_chat,
             c.model, c.provider, c.chat_id,
             (SELECT title FROM chats WHERE id = c.chat_id) AS title,
             count(*) AS calls,
             coalesce(sum(c.cost_micros), 0) AS total_cost_micros,
             coalesce(sum(c.input_tokens), 0) AS input_tokens,
             coalesce(sum(c.output_tokens), 0) AS output_tokens,
             coalesce(sum(c.cache_read_tokens), 0) AS cache_read_tokens,
             coalesce(sum(c.cache_write_tokens), 0) AS cache_write_tokens,
             coalesce(sum(c.reasoning_tokens), 0) AS reasoning_tokens
        FROM calls c
       GROUP BY GROUPING SETS ((), (c.model, c.provider), (c.chat_id))
  ) s ON true
 ORDER BY s.per_model, s.per_chat, s.total_cost_micros DESC, s.model, s.chat_id
