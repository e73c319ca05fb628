-- A running reply's parts as rows of their own, one per checkpoint: a checkpoint appends what is
-- new instead of rewriting the reply's row with all its parts so far and its whole message
-- (every second for every running reply, a cost that grew with the square of a reply's length
-- and was most of PostgreSQL's work under many replies). The message is no longer kept while
-- the reply runs: whoever finishes a reply for a worker that could not (recovery, a refused
-- record) rebuilds it from the parts, as a reader's client does (llm::rebuild_message).
CREATE TABLE chat_reply_parts (
    chat_id uuid   NOT NULL REFERENCES chat_replies (chat_id) ON DELETE CASCADE,
    -- Characters of the reply's parts before these (a reader's offset counts characters, as
    -- substr does). A checkpoint whose connection broke is sent again from the same place,
    -- with what came since: it replaces the row it may have written.
    at      bigint NOT NULL,
    parts   text   NOT NULL,
    PRIMARY KEY (chat_id, at)
);

-- The replies running while this migrates keep what they checkpointed.
INSERT INTO chat_reply_parts (chat_id, at, parts)
SELECT chat_id, 0, parts FROM chat_replies WHERE parts <> '';

ALTER TABLE chat_replies DROP COLUMN parts, DROP COLUMN part_count, DROP COLUMN message;

-- chatd_claim_reply (migration 0007) without the dropped columns: a chat's new reply starts
-- with no parts (those of its last one go).
CREATE OR REPLACE FUNCTION chatd_claim_reply(p_chat uuid, p_message text, p_user uuid,
                                             p_model text, p_provider text, p_worker text,
                                             p_seconds double precision, p_key text, p_hash text,
                                             p_max_user integer)
RETURNS TABLE (outcome text, first_message text, same_request boolean, cancelled boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  first idempotency_keys%ROWTYPE;
  claimed_cancelled boolean;
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
      RETURN QUERY SELECT 'repeat'::text, first.message_id, first.request_hash = p_hash, false;
      RETURN;
    END IF;
  END IF;
  IF p_max_user > 0 THEN
    PERFORM pg_advisory_xact_lock(hashtextextended('chatd_user_' || p_user::text, 0));
    IF (SELECT count(*) FROM chat_replies r
         WHERE r.user_id = p_user AND r.finished_at IS NULL) >= p_max_user THEN
      DELETE FROM idempotency_keys k
       WHERE k.user_id = p_user AND k.chat_id = p_chat AND k.key = p_key;
      RETURN QUERY SELECT 'user_limit'::text, ''::text, true, false;
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
         finished_at = NULL
   WHERE r.finished_at IS NOT NULL
  RETURNING r.cancel_requested INTO claimed_cancelled;
  IF FOUND THEN
    DELETE FROM chat_reply_parts p WHERE p.chat_id = p_chat;
    RETURN QUERY SELECT 'claimed'::text, p_message, true, claimed_cancelled;
    RETURN;
  END IF;
  DELETE FROM idempotency_keys k
   WHERE k.user_id = p_user AND k.chat_id = p_chat AND k.key = p_key;
  RETURN QUERY SELECT 'busy'::text, ''::text, true, false;
END $$;
