-- A running reply's model call in flight, as its last checkpoint saw it (sql::OpenCall: what
-- its provider had reported, and the cost of that), and how many of the reply's calls the
-- ledger holds: a worker that dies in the middle of a call leaves it to recovery, which
-- records it (usage_records_recover.sql).
ALTER TABLE chat_replies ADD COLUMN open_call jsonb,
                         ADD COLUMN calls_recorded integer NOT NULL DEFAULT 0;

-- Budgets (API.md §9): a default for every user from the configuration (`budget`), and a
-- user's own from the command line (`chatd users budget`), checked against the usage ledger
-- before every model call: the first in the claim of a reply, each later one in the statement
-- that records the call before it.
CREATE TABLE user_budgets (
    user_id      uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Both NULL: this user has no budget, whatever the default.
    period       text        CHECK (period IN ('day', 'week', 'month')),
    limit_micros bigint      CHECK (limit_micros >= 0),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((period IS NULL) = (limit_micros IS NULL))
);

-- The budget period holding p_at: when it began and when it resets, in UTC (a week begins on
-- Monday, as ISO 8601 has it). UTC arithmetic: no session time zone or DST gets in.
CREATE FUNCTION chatd_budget_period(p_period text, p_at timestamptz,
                                    OUT starts_at timestamptz, OUT resets_at timestamptz)
    LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT s AT TIME ZONE 'UTC', (s + ('1 ' || p_period)::interval) AT TIME ZONE 'UTC'
    FROM (SELECT date_trunc(p_period, p_at AT TIME ZONE 'UTC') AS s) t
$$;

-- A user's budget and what the ledger holds for its period now: the user's own budget, else
-- the default given (p_period NULL: none). No budget: NULL, and spent >= limit is never true.
CREATE TYPE chatd_budget_state AS (
    period       text,
    limit_micros bigint,
    spent_micros bigint,
    resets_at    timestamptz
);
CREATE FUNCTION chatd_budget(p_user uuid, p_period text, p_limit bigint)
    RETURNS chatd_budget_state LANGUAGE sql STABLE AS $$
  WITH chosen AS (
      SELECT o.period, o.limit_micros FROM user_budgets o WHERE o.user_id = p_user
      UNION ALL
      SELECT p_period, p_limit
       WHERE NOT EXISTS (SELECT FROM user_budgets o WHERE o.user_id = p_user)
  )
  SELECT (c.period, c.limit_micros,
          (SELECT coalesce(sum(u.cost_micros), 0) FROM usage_records u
            WHERE u.user_id = p_user AND u.created_at >= p.starts_at
              AND u.created_at < p.resets_at),
          p.resets_at)::chatd_budget_state
    FROM chosen c, chatd_budget_period(c.period, now()) p
   WHERE c.period IS NOT NULL
$$;

-- Whether a budget may apply to the user (the default, or one of their own): then the checks of
-- their spend take the user's lock, so that each sees every call recorded before it. Without one,
-- nothing is locked (a user's many replies then record their calls side by side).
CREATE FUNCTION chatd_budget_applies(p_user uuid, p_period text) RETURNS boolean
    LANGUAGE sql STABLE AS $$
  SELECT p_period IS NOT NULL OR EXISTS (SELECT FROM user_budgets o WHERE o.user_id = p_user)
$$;

-- Records a model call (a row of usage_records; a chat deleted meanwhile leaves its chat id
-- NULL) and answers the user's budget with it counted: whether the reply may call the model
-- again. Under the user's lock, as the claim's check: each of these checks sees every call
-- recorded before it, so a user's replies together overshoot the budget by at most one call
-- each (those running when it was reached).
-- A step's call (p_call: its number among its reply's calls) is counted on the reply's row, so
-- that recovery knows whether the call its checkpoints saw in flight was recorded.
CREATE FUNCTION chatd_record_call(p_user uuid, p_chat uuid, p_message text, p_kind text,
                                  p_model text, p_provider text, p_input bigint,
                                  p_output bigint, p_cache_read bigint, p_cache_write bigint,
                                  p_reasoning bigint, p_cost bigint, p_period text,
                                  p_limit bigint, p_call integer)
    RETURNS chatd_budget_state LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF chatd_budget_applies(p_user, p_period) THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('chatd_user_' || p_user::text, 0));
  END IF;
  INSERT INTO usage_records (user_id, chat_id, message_id, kind, model, provider, input_tokens,
                             output_tokens, cache_read_tokens, cache_write_tokens,
                             reasoning_tokens, cost_micros)
  VALUES (p_user, (SELECT id FROM chats WHERE id = p_chat), p_message, p_kind, p_model,
          p_provider, p_input, p_output, p_cache_read, p_cache_write, p_reasoning, p_cost);
  -- The reply's row last: it is locked only until this statement commits.
  IF p_call IS NOT NULL THEN
    UPDATE chat_replies SET calls_recorded = greatest(calls_recorded, p_call), open_call = NULL
     WHERE chat_id = p_chat AND message_id = p_message;
  END IF;
  RETURN chatd_budget(p_user, p_period, p_limit);
END $$;

-- chatd_claim_reply (migrations 0007, 0012) with the budget: a user at or over it is refused
-- ("budget", with the state) before anything is claimed; an idempotent repeat still follows
-- the reply its key started.
DROP FUNCTION chatd_claim_reply(uuid, text, uuid, text, text, text, double precision, text,
                                text, integer);
CREATE FUNCTION chatd_claim_reply(p_chat uuid, p_message text, p_user uuid, p_model text,
                                  p_provider text, p_worker text, p_seconds double precision,
                                  p_key text, p_hash text, p_max_user integer,
                                  p_budget_period text, p_budget_limit bigint)
RETURNS TABLE (outcome text, first_message text, same_request boolean, cancelled boolean,
               budget chatd_budget_state)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  first idempotency_keys%ROWTYPE;
  claimed_cancelled boolean;
  spending chatd_budget_state;
BEGIN
  IF p_key <> '' THEN
    INSERT INTO idempotency_keys AS k (user_id, chat_id, key, request_hash, message_id)
    VALUES (p_user, p_chat, p_key, p_hash, p_message)
    ON CONFLICT (user_id, chat_id, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, message_id = EXCLUDED.message_id,
           created_at = now()
     WHERE k.created_at < now() - interval '24 hours';
    IF NOT FOUND THEN
      SELECT * INTO first FROM idempotency_keys k
       WHERE k.user_id = p_user AND k.chat_id = p_chat AND k.key = p_key;
      RETURN QUERY SELECT 'repeat'::text, first.message_id, first.request_hash = p_hash, false,
                          NULL::chatd_budget_state;
      RETURN;
    END IF;
  END IF;
  -- The user's lock, for their limit or their budget (which chatd_record_call takes too: this
  -- check sees every call recorded before it, a statement after the lock having a snapshot of
  -- its own). Neither applies: no lock.
  IF p_max_user > 0 OR chatd_budget_applies(p_user, p_budget_period) THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('chatd_user_' || p_user::text, 0));
  END IF;
  spending := chatd_budget(p_user, p_budget_period, p_budget_limit);
  IF spending.spent_micros >= spending.limit_micros THEN
    DELETE FROM idempotency_keys k
     WHERE k.user_id = p_user AND k.chat_id = p_chat AND k.key = p_key;
    RETURN QUERY SELECT 'budget'::text, ''::text, true, false, spending;
    RETURN;
  END IF;
  IF p_max_user > 0 THEN
    IF (SELECT count(*) FROM chat_replies r
         WHERE r.user_id = p_user AND r.finished_at IS NULL) >= p_max_user THEN
      DELETE FROM idempotency_keys k
       WHERE k.user_id = p_user AND k.chat_id = p_chat AND k.key = p_key;
      RETURN QUERY SELECT 'user_limit'::text, ''::text, true, false, NULL::chatd_budget_state;
      RETURN;
    END IF;
  END IF;
  INSERT INTO chat_replies AS r (chat_id, message_id, user_id, model, provider, worker,
                                 cancel_requested)
  VALUES (p_chat, p_message, p_user, p_model, p_provider, p_worker,
          EXISTS (SELECT 1 FROM chats c
                   WHERE c.id = p_chat
                     AND c.interrupted_at >= now() - make_interval(secs => p_seconds)))
  ON CONFLICT (chat_id) DO UPDATE
     SET message_id = EXCLUDED.message_id, user_id = EXCLUDED.user_id, model = EXCLUDED.model,
         provider = EXCLUDED.provider, worker = EXCLUDED.worker, started_at = now(),
         heartbeat_at = now(), cancel_requested = EXCLUDED.cancel_requested, readers = 0,
         finished_at = NULL, open_call = NULL, calls_recorded = 0
   WHERE r.finished_at IS NOT NULL
  RETURNING r.cancel_requested INTO claimed_cancelled;
  IF FOUND THEN
    DELETE FROM chat_reply_parts p WHERE p.chat_id = p_chat;
    RETURN QUERY SELECT 'claimed'::text, p_message, true, claimed_cancelled, spending;
    RETURN;
  END IF;
  DELETE FROM idempotency_keys k
   WHERE k.user_id = p_user AND k.chat_id = p_chat AND k.key = p_key;
  RETURN QUERY SELECT 'busy'::text, ''::text, true, false, NULL::chatd_budget_state;
END $$;
