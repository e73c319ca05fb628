-- Recovery of a reply whose worker died (sql::ReplyStore::recover): the model call its last
-- checkpoint saw in flight, if the ledger does not hold it, recorded with what its provider had
-- reported by then (and the cost of that), so that no call goes unrecorded.
-- $1 chat id.
INSERT INTO usage_records (user_id, chat_id, message_id, kind, model, provider, input_tokens,
                           output_tokens, cache_read_tokens, cache_write_tokens,
                           reasoning_tokens, cost_micros)
SELECT r.user_id, r.chat_id, r.message_id, 'step', r.model, r.provider,
       (r.open_call->>'input')::bigint, (r.open_call->>'output')::bigint,
       (r.open_call->>'cache_read')::bigint, (r.open_call->>'cache_write')::bigint,
       (r.open_call->>'reasoning')::bigint, (r.open_call->>'cost')::bigint
  FROM chat_replies r
 WHERE r.chat_id = $1 AND (r.open_call->>'n')::integer > r.calls_recorded
