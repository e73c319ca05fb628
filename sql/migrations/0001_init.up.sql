-- Users, their API tokens, and Coder's chats/chat_messages (migration 000319 of coder/coder),
-- with the indexes Coder left out and the columns later features need.

CREATE TABLE users (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    username   text        NOT NULL UNIQUE,
    email      text,
    status     text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    is_admin   boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A token is "<id>-<secret>"; only sha256(secret) is kept.
CREATE TABLE api_keys (
    id            text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9]{10}$'),
    hashed_secret bytea       NOT NULL CHECK (length(hashed_secret) = 32),
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    last_used     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);

CREATE TABLE chats (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    title      text        NOT NULL
);
-- GET /api/v2/chats lists one owner's chats newest first.
CREATE INDEX chats_owner_created_idx ON chats (owner_id, created_at DESC, id DESC);

-- One row per AI SDK UI message; BIGSERIAL keeps the order of messages stored together.
CREATE TABLE chat_messages (
    id                bigserial   PRIMARY KEY,
    chat_id           uuid        NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    created_at        timestamptz NOT NULL DEFAULT now(),
    model             text        NOT NULL,
    provider          text        NOT NULL,
    content           jsonb       NOT NULL CHECK (jsonb_typeof(content) = 'object'),
    finish_reason     text,
    prompt_tokens     integer,
    completion_tokens integer
);
-- GET /api/v2/chats/{chat}/messages reads one chat's history in order.
CREATE INDEX chat_messages_chat_order_idx ON chat_messages (chat_id, created_at, id);

-- Every time the API shows is RFC 3339 in UTC with microseconds: 2026-11-26T11:18:29.123456Z.
CREATE FUNCTION chatd_time(t timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
