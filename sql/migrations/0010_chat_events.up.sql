-- GET /api/v2/chats/watch (API.md §8), and the search indexes. Every change to a chat is
-- announced on its owner's channel, by the statement that makes it, at its commit, to the
-- watchers of every worker on every host. The payload is {"kind": "...", "chat": "<chat id>"}; a watcher reads the chat's
-- state itself (a payload holds at most 8000 bytes; a chat's labels may take more).

-- The owner's channel: sql/channels.hpp builds the same name for LISTEN.
CREATE FUNCTION chatd_user_channel(p_user uuid) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN 'chatd_user_' || replace(p_user::text, '-', '');

-- Announces a change (nothing for a reply row of before migration 0003, which has no user).
CREATE FUNCTION chatd_chat_event(p_user uuid, p_chat uuid, p_kind text) RETURNS void
    LANGUAGE sql VOLATILE STRICT
    RETURN pg_notify(chatd_user_channel(p_user),
                     json_build_object('kind', p_kind, 'chat', p_chat)::text);

-- The search indexes take every new row at once instead of in a pending list that each search
-- must read through (GIN's fastupdate): a search stays a few index pages whatever was stored
-- since the last vacuum, for a slightly dearer insert.
ALTER INDEX chats_search_idx SET (fastupdate = off);
ALTER INDEX chat_messages_search_idx SET (fastupdate = off);
