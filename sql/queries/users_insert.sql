INSERT INTO users (username, email, is_admin) VALUES ($1, NULLIF($2, ''), $3)
RETURNING id
