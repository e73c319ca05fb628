-- Stores one message and moves the chat's updated_at to its time.
WITH message AS (
    INSERT INTO chat_messages (chat_id, model, provider, content, finish_reason, prompt_tokens,
                               completion_tokens)
    VALUES ($1, $2, $3, $4::jsonb, NULLIF($5, ''), NULLIF($6, '')::integer,
            NULLIF($7, '')::integer)
    RETURNING created_at
)
UPDATE chats SET updated_at = (SELECT created_at FROM message) WHERE id = $1
