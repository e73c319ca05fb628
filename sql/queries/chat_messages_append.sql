-- A POST's user message, in one round trip: stores it, moves the chat's updated_at to its time
-- and its stored_bytes by the message's size,
-- and returns the newest messages stored before it (newest first: at most $8 of them, and of
-- those only as many as fit in $9 bytes of JSON; what the model sees is cut from these, so the
-- cost does not grow with the chat), how many the $8 limit let through before the byte cut,
-- and whether the chat held a user message before (its first one gets a title). Always one row
-- at least: with nothing to return, content is NULL. The CTEs do not see the row the INSERT
-- adds: a data-modifying WITH runs to completion but is invisible to the rest of its
-- statement. The EXISTS is evaluated once and stops at the first user message, normally the
-- chat's oldest row.
-- An edit (PATCH …/messages/{message}, $10 the edited user message's id) first deletes that
-- message and every later one (the other CTEs still see them, so they read only what comes
-- before it), and stored_bytes loses their size.
-- $1 chat id, $2 model, $3 provider, $4 the message (JSON), $5 finish reason, $6 and $7 prompt
-- and completion tokens ($5-$7 NULL for a user message), $10 the message edited (NULL: none),
-- $11 the ids of the files it references (a uuid[] literal; only the chat owner's count).
WITH target AS (
    SELECT created_at, id FROM chat_messages
     WHERE chat_id = $1 AND message_id = $10::text AND content->>'role' = 'user'
     ORDER BY created_at, id
     LIMIT 1
), removed AS (
    DELETE FROM chat_messages
     WHERE chat_id = $1 AND (created_at, id) >= (SELECT created_at, id FROM target)
    RETURNING octet_length(content::text) AS bytes
), message AS (
    INSERT INTO chat_messages (chat_id, model, provider, content, finish_reason, prompt_tokens,
                               completion_tokens)
    VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)
    RETURNING id, created_at, octet_length(content::text) AS bytes
), referenced AS (
    INSERT INTO chat_message_files (message_id, file_id)
    SELECT message.id, f.id
      FROM message, chat_files f
     WHERE f.id = ANY ($11::uuid[]) AND f.user_id = (SELECT user_id FROM chats WHERE id = $1)
), touched AS (
    UPDATE chats
       SET updated_at = message.created_at,
           stored_bytes = stored_bytes + message.bytes
                          - (SELECT coalesce(sum(bytes), 0) FROM removed)
      FROM message
     WHERE chats.id = $1
), newest AS (
    SELECT created_at, id, content::text AS content
      FROM chat_messages
     WHERE chat_id = $1
       AND ($10::text IS NULL OR (created_at, id) < (SELECT created_at, id FROM target))
     ORDER BY created_at DESC, id DESC
     LIMIT $8
), sized AS (
    SELECT created_at, id, content,
           sum(octet_length(content)) OVER (ORDER BY created_at DESC, id DESC) AS through
      FROM newest
)
SELECT EXISTS (SELECT 1
                 FROM chat_messages AS earlier
                WHERE earlier.chat_id = $1 AND earlier.content->>'role' = 'user'
                  AND ($10::text IS NULL OR (earlier.created_at, earlier.id)
                                            < (SELECT created_at, id FROM target))) AS has_user,
       (SELECT count(*) FROM newest) AS fetched,
       sized.content
  FROM (SELECT 1) AS one
  LEFT JOIN sized ON sized.through <= $9
 ORDER BY sized.created_at DESC, sized.id DESC
