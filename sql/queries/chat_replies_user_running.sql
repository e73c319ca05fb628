-- The replies a user has running; under chat_replies_user_lock, so that two requests cannot
-- both take the last free place.
SELECT count(*) AS running FROM chat_replies WHERE user_id = $1::uuid AND finished_at IS NULL
