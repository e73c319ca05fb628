-- Claims the chat for a new reply, with its Idempotency-Key and the user's limit, in one round
-- trip: see chatd_claim_reply (migration 0007). A claimed chat is running: the owner's watchers
-- hear "status_change".
SELECT outcome, first_message, same_request, cancelled,
       CASE WHEN outcome = 'claimed' THEN chatd_chat_event($3, $1, 'status_change') END
           AS announced
  FROM chatd_claim_reply($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
