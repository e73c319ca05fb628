-- A page of a chat's messages, oldest first (GET …/messages with limit, before_id or after_id):
-- without $4, the newest $2 before message $3 (NULL: the newest $2 of all); with $4, the
-- oldest $2 after message $4 (and before $3, when given). Messages are named by their AI SDK id
-- (message_id; the newest of that id when a client reused one). Always one row at least,
-- carrying whether the named messages are the chat's and whether older or newer messages than
-- the page's exist; with no message on the page, id and content are NULL.
-- $1 chat id, $2 page size, $3 before this message (NULL: none), $4 after this one (NULL: none).
WITH before_cursor AS (
    SELECT created_at, id FROM chat_messages
     WHERE chat_id = $1 AND message_id = $3::text
     ORDER BY created_at DESC, id DESC LIMIT 1
), after_cursor AS (
    SELECT created_at, id FROM chat_messages
     WHERE chat_id = $1 AND message_id = $4::text
     ORDER BY created_at DESC, id DESC LIMIT 1
), newest AS (
    SELECT m.created_at, m.id, m.message_id, m.content::text AS content
      FROM chat_messages m
     WHERE $4::text IS NULL AND m.chat_id = $1
       AND ($3::text IS NULL OR (m.created_at, m.id) < (SELECT created_at, id FROM before_cursor))
     ORDER BY m.created_at DESC, m.id DESC
     LIMIT $2
), oldest AS (
    SELECT m.created_at, m.id, m.message_id, m.content::text AS content
      FROM chat_messages m
     WHERE $4::text IS NOT NULL AND m.chat_id = $1
       AND (m.created_at, m.id) > (SELECT created_at, id FROM after_cursor)
       AND ($3::text IS NULL OR (m.created_at, m.id) < (SELECT created_at, id FROM before_cursor))
     ORDER BY m.created_at, m.id
     LIMIT $2
), page AS (
    SELECT * FROM newest UNION ALL SELECT * FROM oldest
), first AS (
    SELECT created_at, id FROM page ORDER BY created_at, id LIMIT 1
), last AS (
    SELECT created_at, id FROM page ORDER BY created_at DESC, id DESC LIMIT 1
)
SELECT ($3::text IS NULL OR EXISTS (SELECT 1 FROM before_cursor))
           AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM after_cursor)) AS cursors_found,
       EXISTS (SELECT 1 FROM chat_messages o, first
                WHERE o.chat_id = $1 AND (o.created_at, o.id) < (first.created_at, first.id))
           AS older,
       EXISTS (SELECT 1 FROM chat_messages n, last
                WHERE n.chat_id = $1 AND (n.created_at, n.id) > (last.created_at, last.id))
           AS newer,
       page.message_id, page.content
  FROM (SELECT 1) AS one
  LEFT JOIN page ON true
 ORDER BY page.created_at, page.id
