UPDATE users SET status = $2 WHERE username = $1 RETURNING id
