-- An interrupt that comes while a POST is still on its way to its claim (nothing runs yet, so
-- there is no reply to mark) must still stop that reply: the time of the chat's last interrupt
-- is kept, and a claim whose request arrived before it starts cancelled
-- (chat_replies_interrupt.sql, chat_replies_begin.sql).
ALTER TABLE chats ADD COLUMN interrupted_at timestamptz;
