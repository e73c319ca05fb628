UPDATE chats SET title = $2 WHERE id = $1
