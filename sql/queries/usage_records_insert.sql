-- A model call's usage (sql::UsageStore::record). A chat deleted meanwhile leaves its chat id
-- NULL: the spend is recorded all the same.
-- $1 user, $2 chat, $3 message id, $4 kind (step, title), $5 model, $6 provider, $7-$11 input,
-- output, cache-read, cache-write and reasoning tokens (NULL: not reported), $12 cost in
-- micro-dollars (NULL: no price).
INSERT INTO usage_records (user_id, chat_id, message_id, kind, model, provider, input_tokens,
                           output_tokens, cache_read_tokens, cache_write_tokens,
                           reasoning_tokens, cost_micros)
SELECT $1, (SELECT id FROM chats WHERE id = $2), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
