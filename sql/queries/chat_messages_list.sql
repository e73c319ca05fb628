-- Oldest first; id breaks ties between messages stored in one statement.
SELECT content::text AS content
  FROM chat_messages
 WHERE chat_id = $1
 ORDER BY created_at, id
