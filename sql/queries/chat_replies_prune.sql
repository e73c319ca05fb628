-- Finished replies are kept a minute for late readers, then removed.
DELETE FROM chat_replies WHERE finished_at < now() - interval '1 minute'
