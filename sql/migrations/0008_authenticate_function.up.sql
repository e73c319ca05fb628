-- Authentication as a function, so that a read can authenticate in its own statement: one
-- round trip for the token check, the rate limit and the data (GET /api/v2/chats and the routes
-- of one chat), where it was two. sql/queries/auth_find_key.sql is this function alone; the
-- reads call it in their FROM and join their rows on `admitted`.
--
-- For key p_key: the key's hex SHA-256, its expiry (RFC 3339) and whether it passed, its user,
-- the user's status and admin flag; no row for an unknown key. When p_hashed (hex) is the
-- key's, the key has not expired and its user is active: last_used moves (at most once a
-- minute, whatever the request rate) and one request is counted against the user's rate limit,
-- one request every p_seconds (0: no limit) with bursts of p_burst.
--
-- The rate limit is GCRA: each admitted request moves rate_limits.tat by p_seconds from
-- max(tat, now); a request is admitted while the new tat stays within p_burst × p_seconds of
-- now. ON CONFLICT … DO UPDATE locks the user's row and sees its latest version, so concurrent
-- requests from any number of workers and hosts are counted exactly. retry_after: refused by
-- the rate limit, the seconds until a request would be admitted; null: not refused.
-- admitted: every check passed (a caller joins its data on it, so nothing is read for a
-- caller that gets a 401 or a 429).
CREATE FUNCTION chatd_authenticate(p_key text, p_hashed text, p_seconds double precision,
                                   p_burst double precision)
RETURNS TABLE (key_hashed_secret text, key_expires_at text, key_expired boolean,
               key_user_id uuid, key_user_status text, key_user_is_admin boolean,
               key_retry_after double precision, admitted boolean)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  k record;
  good boolean;
BEGIN
  SELECT a.hashed_secret, a.expires_at, a.last_used, u.id AS user_id, u.status, u.is_admin
    INTO k
    FROM api_keys a JOIN users u ON u.id = a.user_id
   WHERE a.id = p_key;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  good := k.hashed_secret = decode(p_hashed, 'hex') AND k.expires_at > now()
          AND k.status = 'active';
  key_retry_after := NULL;
  IF good AND k.last_used < now() - interval '1 minute' THEN
    UPDATE api_keys SET last_used = now()
     WHERE id = p_key AND last_used < now() - interval '1 minute';
  END IF;
  IF good AND p_seconds > 0 THEN
    INSERT INTO rate_limits AS r (user_id, tat)
    VALUES (k.user_id, now() + make_interval(secs => p_seconds))
        ON CONFLICT (user_id) DO UPDATE
       SET tat = greatest(r.tat, now()) + make_interval(secs => p_seconds)
     WHERE greatest(r.tat, now()) + make_interval(secs => p_seconds)
           <= now() + make_interval(secs => p_seconds * p_burst);
    IF NOT FOUND THEN
      -- One interval when the user's row is not visible (a concurrent request creating it).
      key_retry_after := coalesce((SELECT extract(epoch FROM r.tat - now())
                                          - p_seconds * (p_burst - 1)
                                     FROM rate_limits r
                                    WHERE r.user_id = k.user_id), p_seconds);
    END IF;
  END IF;
  key_hashed_secret := encode(k.hashed_secret, 'hex');
  key_expires_at := chatd_time(k.expires_at);
  key_expired := k.expires_at <= now();
  key_user_id := k.user_id;
  key_user_status := k.status;
  key_user_is_admin := k.is_admin;
  admitted := good AND key_retry_after IS NULL;
  RETURN NEXT;
END $$;
