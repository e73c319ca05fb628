-- GET /api/v2/chats/cost/users (API.md §9) and `chatd usage`: every user's calls from $1 to $2
-- (NULL: the current calendar month, UTC) summed, the dearest first (ties by user id), at most
-- $3 users (NULL: all) after user $4 (NULL: from the first) in that order. Users without calls
-- in the range are not listed. Always one row at least (the range; user_id NULL when the page
-- is empty); `cursor_found`: user $4 has calls in the range.
WITH bounds AS (
    SELECT * FROM chatd_usage_range($1, $2)
), per_user AS (
    SELECT u.user_id, count(*) AS calls,
           coalesce(sum(u.cost_micros), 0) AS total_cost_micros,
           coalesce(sum(u.input_tokens), 0) AS input_tokens,
           coalesce(sum(u.output_tokens), 0) AS output_tokens,
           coalesce(sum(u.cache_read_tokens), 0) AS cache_read_tokens,
           coalesce(sum(u.cache_write_tokens), 0) AS cache_write_tokens,
           coalesce(sum(u.reasoning_tokens), 0) AS reasoning_tokens
      FROM usage_records u, bounds b
     WHERE u.created_at >= b.start_date AND u.created_at < b.end_date
     GROUP BY u.user_id
), after AS (
    SELECT total_cost_micros, user_id FROM per_user WHERE user_id = $4::uuid
)
SELECT chatd_time(b.start_date) AS start_date, chatd_time(b.end_date) AS end_date,
       $4::uuid IS NULL OR EXISTS (SELECT FROM after) AS cursor_found, page.*
  FROM bounds b
  LEFT JOIN LATERAL (
      SELECT p.*, usr.username
        FROM per_user p JOIN users usr ON usr.id = p.user_id
       WHERE $4::uuid IS NULL
          OR (p.total_cost_micros, p.user_id) < (SELECT total_cost_micros, user_id FROM after)
       ORDER BY p.total_cost_micros DESC, p.user_id DESC
       LIMIT $3
  ) page ON true
