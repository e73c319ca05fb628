UPDATE chat_replies SET heartbeat_at = now() WHERE chat_id = $1 AND message_id = $2
