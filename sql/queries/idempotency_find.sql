SELECT request_hash, message_id FROM idempotency_keys
 WHERE user_id = $1 AND chat_id = $2 AND key = $3
