-- The caller's chats, archived or not ($5), pinned first by pin_order, then newest first (ties
-- by id), in the statement that authenticates the caller (chatd_authenticate, migration 0008):
-- every row carries the key's columns and `cursor_found`, and there are chats only when the
-- caller was admitted (one row with a NULL id: none). The page is read in the order of
-- chats_owner_order_idx, so it costs the same however many chats the caller has. With any
-- other filter, chats_search.sql.
-- $1 key id, $2 hex SHA-256 of the secret, $3 seconds per request (0: no limit), $4 burst,
-- $5 archived, $6 at most so many rows (NULL: all), $7 only the chats after this one in the
-- order (NULL: from the first; cursor_found says whether it is one of the caller's).
WITH a AS (
    SELECT * FROM chatd_authenticate($1, $2, $3, $4)
), cursor AS (
    SELECT c.pin_order, c.created_at, c.id
      FROM a JOIN chats c ON a.admitted AND c.id = $7::uuid AND c.owner_id = a.key_user_id
)
SELECT a.*, $7::uuid IS NULL OR EXISTS (SELECT 1 FROM cursor) AS cursor_found, c.id,
       chatd_time(c.created_at) AS created_at, chatd_time(c.updated_at) AS updated_at, c.title,
       c.archived, c.pin_order, c.labels::text AS labels,
       EXISTS (SELECT 1 FROM chat_replies r WHERE r.chat_id = c.id AND r.finished_at IS NULL)
           AS running
  FROM a
  LEFT JOIN LATERAL (
    SELECT c.id, c.created_at, c.updated_at, c.title, c.archived, c.pin_order, c.labels
      FROM chats c
     WHERE a.admitted AND c.owner_id = a.key_user_id AND c.archived = $5::boolean
       AND ($7::uuid IS NULL OR EXISTS (
             SELECT 1 FROM cursor
              WHERE chatd_chat_after(c.pin_order, c.created_at, c.id,
                                     cursor.pin_order, cursor.created_at, cursor.id)))
     ORDER BY c.pin_order = 0, c.pin_order, c.created_at DESC, c.id DESC
     LIMIT $6::integer
  ) c ON true
 ORDER BY c.pin_order = 0, c.pin_order, c.created_at DESC, c.id DESC
