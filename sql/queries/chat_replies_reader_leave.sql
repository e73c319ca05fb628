-- A reader of the reply left.
UPDATE chat_replies SET readers = greatest(readers - 1, 0) WHERE chat_id = $1 AND message_id = $2
