-- Files no stored message references, 24 hours after their upload (API.md §10), deleted by one
-- worker at a time across hosts (the one that takes the advisory lock), at most $1 at once.
-- Returns how many went.
WITH locked AS (
    SELECT pg_try_advisory_xact_lock(hashtextextended('chatd_file_prune', 0)) AS held
), unreferenced AS (
    SELECT f.id
      FROM chat_files f, locked
     WHERE locked.held AND f.created_at < now() - interval '24 hours'
       AND NOT EXISTS (SELECT FROM chat_message_files m WHERE m.file_id = f.id)
     ORDER BY f.created_at
     LIMIT $1
       FOR UPDATE OF f SKIP LOCKED
), deleted AS (
    DELETE FROM chat_files f USING unreferenced u WHERE f.id = u.id RETURNING 1
)
SELECT count(*) AS deleted FROM deleted
