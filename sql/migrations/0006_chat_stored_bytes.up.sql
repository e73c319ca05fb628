-- What a chat stores, in bytes of its messages' JSON, kept by every statement that stores a
-- message (chat_messages_append.sql, chat_replies_finish.sql, chat_replies_recover.sql): a
-- POST to a chat at its max-chat-size is refused without reading the chat's messages.
ALTER TABLE chats ADD COLUMN stored_bytes bigint NOT NULL DEFAULT 0;
UPDATE chats
   SET stored_bytes = sized.bytes
  FROM (SELECT chat_id, sum(octet_length(content::text)) AS bytes
          FROM chat_messages
         GROUP BY chat_id) AS sized
 WHERE chats.id = sized.chat_id;
