-- Retention (API.md §8, archived-chat-retention): chats archived $1 seconds ago or more are
-- deleted as by DELETE (chats_delete.sql: a running reply told to stop, its readers woken, the
-- owner's watchers told "deleted"), the oldest first, at most $2 of them, by one worker at a
-- time across hosts: the one that takes the advisory lock; the others find nothing to do.
-- Returns how many went.
-- $1 seconds, $2 batch size, $3 the cancel channel, $4 the prefix of the replies' channels.
WITH locked AS (
    SELECT pg_try_advisory_xact_lock(hashtextextended('chatd_retention', 0)) AS held
), expired AS (
    SELECT c.id
      FROM chats c, locked
     WHERE locked.held AND c.archived AND c.archived_at < now() - make_interval(secs => $1)
     ORDER BY c.archived_at
     LIMIT $2
       FOR UPDATE OF c SKIP LOCKED
), stopped AS (
    SELECT pg_notify($3, r.chat_id::text), pg_notify($4 || replace(r.chat_id::text, '-', ''), '')
      FROM chat_replies r JOIN expired ON r.chat_id = expired.id
     WHERE r.finished_at IS NULL
), deleted AS (
    DELETE FROM chats c USING expired
     WHERE c.id = expired.id
    RETURNING chatd_chat_event(c.owner_id, c.id, 'deleted')
)
SELECT (SELECT count(*) FROM deleted) AS deleted, (SELECT count(*) FROM stopped) AS stopped
