-- Claims the chat for a new reply, with its Idempotency-Key, the user's limit and budget, in one
-- round trip: see chatd_claim_reply (migration 0015). A claimed chat is running: the owner's
-- watchers hear "status_change". The budget's fields are NULL when the user has none.
-- $11, $12: the default budget's period and limit in micro-dollars (NULL: none).
SELECT outcome, first_message, same_request, cancelled,
       (budget).period AS budget_period, (budget).limit_micros AS budget_limit_micros,
       (budget).spent_micros AS budget_spent_micros,
       chatd_time((budget).resets_at) AS budget_resets_at,
       CASE WHEN outcome = 'claimed' THEN chatd_chat_event($3, $1, 'status_change') END
           AS announced
  FROM chatd_claim_reply($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
