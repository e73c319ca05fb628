-- chatd users budget NAME default: the user goes back to the default budget. No row back: no
-- such user.
-- $1 username.
WITH target AS (
    SELECT id FROM users WHERE username = $1
), cleared AS (
    DELETE FROM user_budgets b USING target t WHERE b.user_id = t.id
)
SELECT id FROM target
