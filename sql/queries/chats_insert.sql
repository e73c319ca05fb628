INSERT INTO chats (owner_id, title) VALUES ($1, 'New Chat')
RETURNING id, chatd_time(created_at) AS created_at, chatd_time(updated_at) AS updated_at, title,
          archived, pin_order, labels::text AS labels, false AS running
