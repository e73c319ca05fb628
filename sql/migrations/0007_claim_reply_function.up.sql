-- The claim of a new reply (POST …/messages) in one round trip instead of five or six (BEGIN,
-- the Idempotency-Key if any, the user's lock, the count of the user's replies, the claim,
-- COMMIT): the same statements in a function. The lock and the count stay two statements: a
-- statement sees what was committed when it began (the function is VOLATILE, so each of its
-- statements takes its own snapshot), and a count in the statement that waited for the lock
-- would miss the reply of whoever held it, letting two requests take the user's last place.
--
-- outcome: 'claimed' (cancel_requested: the chat was interrupted after the request arrived,
-- p_seconds before), 'repeat' (the key was used within 24 h: the first request's message id,
-- and whether its request hash is this one's), 'user_limit' or 'busy' (a reply runs in the
-- chat). A request that claims nothing keeps no key: the client's retry is a new request.
CREATE FUNCTION chatd_claim_reply(p_chat uuid, p_message text, p_user uuid, p_model text,
                                  p_provider text, p_worker text, p_seconds double precision,
                                  p_key text, p_hash text, p_max_user integer)
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
         heartbeat_at = now(), parts = '', part_count = 0, message = NULL,
         cancel_requested = EXCLUDED.cancel_requested, readers = 0, finished_at = NULL
   WHERE r.finished_at IS NOT NULL
  RETURNING r.cancel_requested INTO claimed_cancelled;
  IF FOUND THEN
    RETURN QUERY SELECT 'claimed'::text, p_message, true, claimed_cancelled;
    RETURN;
  END IF;
  DELETE FROM idempotency_keys k
   WHERE k.user_id = p_user AND k.chat_id = p_chat AND k.key = p_key;
  RETURN QUERY SELECT 'busy'::text, ''::text, true, false;
END $$;
