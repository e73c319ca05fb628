-- A per-user lock held until the transaction ends, taken before chat_replies_user_running
-- counts: in its own statement, because a statement sees the database as it was when the
-- statement began, and a count in this one would miss the reply of whoever held the lock.
SELECT pg_advisory_xact_lock(hashtextextended('chatd_user_' || $1::uuid::text, 0))
