-- PATCH /api/v2/chats/{chat}: the fields given (NULL: keep), in one statement, announced to
-- the owner's watchers ("title_change" when the title is among them, else "updated"). A title
-- set here is the user's: a title generated later never replaces it (chats_set_title.sql).
-- Archiving unpins (an archived chat stays unpinned) and starts its retention (archived_at).
-- $1 chat id, $2 owner, $3 title, $4 archived, $5 pin_order, $6 labels (a JSON object).
UPDATE chats
   SET title = coalesce($3::text, title),
       title_set = title_set OR $3::text IS NOT NULL,
       archived = coalesce($4::boolean, archived),
       archived_at = CASE WHEN NOT coalesce($4::boolean, archived) THEN NULL
                          WHEN archived THEN archived_at
                          ELSE now() END,
       pin_order = CASE WHEN coalesce($4::boolean, archived) THEN 0
                        ELSE coalesce($5::integer, pin_order) END,
       labels = coalesce($6::jsonb, labels),
       updated_at = now()
 WHERE id = $1 AND owner_id = $2
RETURNING chatd_chat_event(owner_id, id, CASE WHEN $3::text IS NULL THEN 'updated'
                                             ELSE 'title_change' END) AS announced
