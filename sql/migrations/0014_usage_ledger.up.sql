-- The usage ledger (API.md §9): a row per model call (each step of a reply, and its title
-- request), written when the call ends, with the tokens its provider reported and its cost.
-- Budgets and the cost routes read it; it outlives the chat (a deleted chat's spend still
-- counts), not the user.
CREATE TABLE usage_records (
    id                 bigserial   PRIMARY KEY,
    user_id            uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    chat_id            uuid        REFERENCES chats (id) ON DELETE SET NULL,
    message_id         text        NOT NULL,  -- the assistant message the call was for
    kind               text        NOT NULL CHECK (kind IN ('step', 'title')),
    model              text        NOT NULL,
    provider           text        NOT NULL,
    -- NULL: not reported. input_tokens are those read from no cache and written to none
    -- (OpenAI's and Gemini's prompt counts less their cached tokens; Anthropic's input_tokens);
    -- output_tokens count the reasoning_tokens among them.
    input_tokens       bigint,
    output_tokens      bigint,
    cache_read_tokens  bigint,
    cache_write_tokens bigint,
    reasoning_tokens   bigint,
    cost_micros        bigint,  -- US micro-dollars; NULL: the model has no price
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_records_user_time_idx ON usage_records (user_id, created_at);
CREATE INDEX usage_records_chat_idx ON usage_records (chat_id);
CREATE INDEX usage_records_time_idx ON usage_records (created_at);

-- The range of a cost route (API.md §9): the times given, else the current calendar month in
-- UTC (month arithmetic on UTC timestamps: no session time zone or DST gets in).
CREATE FUNCTION chatd_usage_range(p_start timestamptz, p_end timestamptz,
                                  OUT start_date timestamptz, OUT end_date timestamptz)
    LANGUAGE sql STABLE AS $$
  SELECT coalesce(p_start, first_day AT TIME ZONE 'UTC'),
         coalesce(p_end, (first_day + interval '1 month') AT TIME ZONE 'UTC')
    FROM (SELECT date_trunc('month', now() AT TIME ZONE 'UTC') AS first_day) m
$$;
