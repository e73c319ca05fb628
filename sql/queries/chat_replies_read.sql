-- What a reader has not seen yet: the parts after byte $2, and whether the reply ended.
SELECT message_id, substr(parts, $2 + 1) AS parts, finished_at IS NOT NULL AS finished
  FROM chat_replies
 WHERE chat_id = $1
