-- The caller's chats matching a filter (GET /api/v2/chats with q or label; without them, the
-- plainer chats_list.sql, whose plan follows the index), pinned first by pin_order, then newest
-- first (ties by id), in the statement that authenticates the caller (chatd_authenticate, migration 0008):
-- every row carries the key's columns and `cursor_found`, and there are chats only when the
-- caller was admitted (one row with a NULL id: none).
-- $1 key id, $2 hex SHA-256 of the secret, $3 seconds per request (0: no limit), $4 burst,
-- $5 archived (NULL: any), $6 running (NULL: any), $7 a case-insensitive substring of the
-- title (NULL: any), $8 labels the chat must have (a JSON array of {"key":"value"} objects),
-- $9 full-text words and phrases that must all match the title or one message (a JSON array
-- of texts; [] none), $10 at most so many rows (NULL: all), $11 only the chats after this
-- one in the order (NULL: from the first; cursor_found says whether it is one of the
-- caller's).
-- plan: per call (with words, from the matched chats; without, from the caller's)
WITH a AS (
    SELECT * FROM chatd_authenticate($1, $2, $3, $4)
), cursor AS (
    SELECT c.pin_order, c.created_at, c.id
      FROM a JOIN chats c ON a.admitted AND c.id = $11::uuid AND c.owner_id = a.key_user_id
), words AS (
    SELECT phraseto_tsquery(chatd_search_config(), word) AS query
      FROM jsonb_array_elements_text($9::jsonb) AS word
), search AS (
    -- NULL: no words; an empty query (words without a lexeme) matches nothing.
    SELECT CASE WHEN count(*) = 0 THEN NULL
                ELSE coalesce(string_agg('(' || query::text || ')', ' & ')
                                  FILTER (WHERE query::text <> ''), '')::tsquery END AS query
      FROM words
), matched AS MATERIALIZED (
    -- With words: the chats whose title or one of whose messages matches, found through the
    -- GIN indexes (any owner's messages: the caller's chats are picked below).
    SELECT m.chat_id AS id
      FROM chat_messages m, search
     WHERE search.query IS NOT NULL AND m.search @@ search.query
    UNION
    SELECT c.id
      FROM chats c, search
     WHERE search.query IS NOT NULL AND c.search @@ search.query
)
SELECT a.*, $11::uuid IS NULL OR EXISTS (SELECT 1 FROM cursor) AS cursor_found, c.id,
       chatd_time(c.created_at) AS created_at, chatd_time(c.updated_at) AS updated_at, c.title,
       c.archived, c.pin_order, c.labels::text AS labels,
       EXISTS (SELECT 1 FROM chat_replies r WHERE r.chat_id = c.id AND r.finished_at IS NULL)
           AS running
  FROM a
  -- The page first, on the bare columns; what is shown is computed for its rows only.
  LEFT JOIN LATERAL (
    SELECT c.id, c.created_at, c.updated_at, c.title, c.archived, c.pin_order, c.labels
      FROM (  -- every chat of the caller without words, the matched ones with
            SELECT c.* FROM chats c, search WHERE search.query IS NULL
            UNION ALL
            SELECT c.*
              FROM matched
             CROSS JOIN LATERAL (  -- by its key (OFFSET 0: not flattened into a hash join)
                   SELECT * FROM chats c WHERE c.id = matched.id OFFSET 0) c) c
     WHERE a.admitted AND c.owner_id = a.key_user_id
       AND ($5::boolean IS NULL OR c.archived = $5::boolean)
       AND ($6::boolean IS NULL OR $6::boolean = EXISTS (
             SELECT 1 FROM chat_replies r WHERE r.chat_id = c.id AND r.finished_at IS NULL))
       AND ($7::text IS NULL OR strpos(lower(c.title), lower($7::text)) > 0)
       AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements($8::jsonb) AS label
                        WHERE NOT c.labels @> label)
       AND ($11::uuid IS NULL OR EXISTS (
             SELECT 1 FROM cursor
              WHERE chatd_chat_after(c.pin_order, c.created_at, c.id,
                                     cursor.pin_order, cursor.created_at, cursor.id)))
     ORDER BY c.pin_order = 0, c.pin_order, c.created_at DESC, c.id DESC
     LIMIT $10::integer
  ) c ON true
 ORDER BY c.pin_order = 0, c.pin_order, c.created_at DESC, c.id DESC
