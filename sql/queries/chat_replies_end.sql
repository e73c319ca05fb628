DELETE FROM chat_replies WHERE chat_id = $1 AND message_id = $2
