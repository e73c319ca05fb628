-- Records the key of a POST; no row back when the key was used before (within 24 h).
INSERT INTO idempotency_keys (user_id, chat_id, key, request_hash, message_id)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id, chat_id, key) DO UPDATE
   SET request_hash = EXCLUDED.request_hash, message_id = EXCLUDED.message_id,
       created_at = now()
 WHERE idempotency_keys.created_at < now() - interval '24 hours'
RETURNING message_id
