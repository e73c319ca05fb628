-- A reply being generated is a row, not a property of one HTTP connection (API.md §7): any
-- worker on any host can follow it (parts), stop it (cancel_requested) or finish it for a
-- worker that died (heartbeat_at, message).
ALTER TABLE chat_replies
    ADD COLUMN user_id          uuid REFERENCES users (id) ON DELETE CASCADE,
    ADD COLUMN model            text        NOT NULL DEFAULT '',
    ADD COLUMN provider         text        NOT NULL DEFAULT '',
    ADD COLUMN worker           text        NOT NULL DEFAULT '',
    -- The data-stream lines so far, checkpointed about once a second (more often while
    -- someone follows the reply).
    ADD COLUMN parts            text        NOT NULL DEFAULT '',
    ADD COLUMN part_count       integer     NOT NULL DEFAULT 0,
    -- The assistant message as the client rebuilds it from those parts.
    ADD COLUMN message          jsonb,
    ADD COLUMN cancel_requested boolean     NOT NULL DEFAULT false,
    ADD COLUMN readers          integer     NOT NULL DEFAULT 0,
    -- Set when the reply ended; the row stays a while for readers that attach late.
    ADD COLUMN finished_at      timestamptz;
CREATE INDEX chat_replies_running_idx ON chat_replies (heartbeat_at) WHERE finished_at IS NULL;

-- A POST may carry an Idempotency-Key: a repeat within 24 h never starts a second reply.
CREATE TABLE idempotency_keys (
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    chat_id      uuid        NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    message_id   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, chat_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
