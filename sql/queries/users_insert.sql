-- A new user; a username that exists is a unique_violation.
-- $1 username, $2 e-mail (NULL: none), $3 site admin.
INSERT INTO users (username, email, is_admin) VALUES ($1, $2, $3)
RETURNING id
