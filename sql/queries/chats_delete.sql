-- DELETE /api/v2/chats/{chat}, in one statement: its running reply is told to stop (its worker
-- hears it at commit and stores nothing, the reply's row being gone; its readers hear the
-- reply's channel and end), and the chat goes with its messages, replies and idempotency keys
-- (ON DELETE CASCADE); the owner's watchers hear "deleted". A row back: the chat was there.
-- $1 chat id, $2 owner, $3 the cancel channel, $4 the reply's channel.
WITH stopped AS (
    SELECT pg_notify($3, chat_id::text), pg_notify($4, '')
      FROM chat_replies
     WHERE chat_id = $1 AND finished_at IS NULL
), deleted AS (
    DELETE FROM chats WHERE id = $1 AND owner_id = $2
    RETURNING chatd_chat_event(owner_id, id, 'deleted')
)
SELECT (SELECT count(*) FROM stopped) AS stopped FROM deleted
