-- POST /api/v2/chats: a new chat, announced to its owner's watchers ("created").
-- $1 owner.
WITH chat AS (
    INSERT INTO chats (owner_id, title) VALUES ($1, 'New Chat')
    RETURNING id, created_at, updated_at, title, archived, pin_order, labels
)
SELECT id, chatd_time(created_at) AS created_at, chatd_time(updated_at) AS updated_at, title,
       archived, pin_order, labels::text AS labels, false AS running,
       chatd_chat_event($1, id, 'created') AS announced
  FROM chat
