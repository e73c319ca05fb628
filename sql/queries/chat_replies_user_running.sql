-- The replies a user has running, counted under a per-user lock held until the transaction
-- ends, so that two requests cannot both take the last free place.
SELECT pg_advisory_xact_lock(hashtextextended('chatd_user_' || $1::uuid::text, 0)),
       (SELECT count(*) FROM chat_replies WHERE user_id = $1::uuid AND finished_at IS NULL)
           AS running
