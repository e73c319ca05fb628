-- Authentication in one round trip of its own (the routes whose first statement does not
-- authenticate): the API key and its user, last_used and the rate limit (chatd_authenticate,
-- migration 0008).
-- $1 key id, $2 hex SHA-256 of the secret, $3 seconds per request (0: no limit), $4 burst.
SELECT * FROM chatd_authenticate($1, $2, $3, $4)
