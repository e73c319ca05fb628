-- A page of a chat's messages, oldest first (GET …/messages with limit, before_id or after_id):
-- without $4, the newest $2 before message $3 (NULL: the newest $2 of all); with $4, the
-- oldest $2 after message $4 (and before $3, when given). Messages are named by their AI SDK id
-- (message_id; the newest of that id when a client reused one). Always one row at least,
-- carrying whether the named messages are the chat's and whether older or newer messages than
-- the page's exist; with no message on the page, id and content are NULL.
-- $1 chat id, $2 page size, $3 before this message (NULL: none), $4 after this one (NULL: none).
-- A missing cursor is a bound past the end (±infinity), never an OR with NULL: the one cached
-- plan then reads the index from the cursor, whichever is given.
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
       AND (m.created_at, m.id) < (coalesce((SELECT created_at FROM before_cursor), 'infinity'),
                                   coalesce((SELECT id FROM before_cursor), 0))
     ORDER BY m.created_at DESC, m.id DESC
     LIMIT $2
), oldest AS (
    SELECT m.created_at, m.id, m.message_id, m.content::text AS content
      FROM chat_messages m
     WHERE $4::text IS NOT NULL AND m.chat_id = $1
       AND (m.created_at, m.id) > (SELECT created_at, id FROM after_cursor)
       AND (m.created_at, m.id) < (coalesce((SELECT created_at FROM before_cursor), 'infinity'),
                                   coalesce((SELECT id FROM before_cursor), 0))
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
       -- In the index's order, so that a page at an end stops at once (EXISTS would scan).
       coalesce((SELECT true FROM chat_messages o
                  WHERE o.chat_id = $1 AND (o.created_at, o.id) < (SELECT created_at, id FROM first)
                  ORDER BY o.created_at DESC, o.id DESC LIMIT 1), false) AS older,
       coalesce((SELECT true FROM chat_messages n
                  WHERE n.chat_id = $1 AND (n.created_at, n.id) > (SELECT created_at, id FROM last)
                  ORDER BY n.created_at, n.id LIMIT 1), false) AS newer,
       page.message_id, page.content
  FROM (SELECT 1) AS one
  LEFT JOIN page ON true
 ORDER BY page.created_at, page.id
