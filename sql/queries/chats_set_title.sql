-- A generated title (or the fallback), unless the user set one with PATCH.
-- $1 chat id, $2 title.
UPDATE chats SET title = $2 WHERE id = $1 AND NOT title_set
