-- last_used moves at most once a minute per key, whatever the request rate.
UPDATE api_keys SET last_used = now()
 WHERE id = $1 AND last_used < now() - interval '1 minute'
