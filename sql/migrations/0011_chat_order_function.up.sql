-- The order of GET /api/v2/chats (pinned first by pin_order, then newest first, ties by id) as
-- one predicate, for the statements that page through it (chats_list.sql, chats_search.sql):
-- whether the chat (p_pin, p_created, p_id) comes after the cursor chat (c_…).
CREATE FUNCTION chatd_chat_after(p_pin integer, p_created timestamptz, p_id uuid,
                                 c_pin integer, c_created timestamptz, c_id uuid)
RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (p_pin = 0, p_pin) > (c_pin = 0, c_pin)
           OR (p_pin = c_pin AND (p_created, p_id) < (c_created, c_id));
