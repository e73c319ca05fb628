-- A POST whose message could not be stored gives its key back, so that the client's retry
-- with the same key is a new request rather than "already sent".
DELETE FROM idempotency_keys
 WHERE user_id = $1 AND chat_id = $2 AND key = $3 AND message_id = $4
