-- A generated title (or the fallback), unless the user set one with PATCH; announced to the
-- owner's watchers ("title_change").
-- $1 chat id, $2 title.
UPDATE chats SET title = $2 WHERE id = $1 AND NOT title_set
RETURNING chatd_chat_event(owner_id, id, 'title_change')
