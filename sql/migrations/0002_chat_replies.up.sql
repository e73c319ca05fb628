-- A reply being generated: at most one per chat, across every worker and host. A worker that
-- dies stops its heartbeat; a row whose heartbeat is stale may be taken over.
CREATE TABLE chat_replies (
    chat_id      uuid        PRIMARY KEY REFERENCES chats (id) ON DELETE CASCADE,
    message_id   text        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);
