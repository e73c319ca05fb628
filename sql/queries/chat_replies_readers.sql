UPDATE chat_replies SET readers = greatest(readers + $2, 0) WHERE chat_id = $1
