// The LISTEN/NOTIFY channels, named here only: the statements that notify take the name as a
// parameter, and the listeners LISTEN on the same names.
#pragma once

#include <string>

namespace chatd::sql {

// POST …/interrupt: the payload is the chat id; every worker listens (worker_process.cpp).
inline constexpr const char* kCancelChannel = "chatd_cancel";

// A reply's progress: its readers listen on the channel of their chat.
inline constexpr const char* kReplyChannelPrefix = "chatd_reply_";

// kReplyChannelPrefix and the chat id without its dashes. chat_replies_recover.sql, which
// notifies many chats, builds the same name from the prefix.
std::string reply_channel(const std::string& chat_id);

// A user's chats changed (GET /api/v2/chats/watch): "chatd_user_" and the user id without its
// dashes, as chatd_user_channel (migration 0010) names it for the statements that notify. The
// payload is {"kind": "created|updated|status_change|title_change|deleted", "chat": "<id>"}.
std::string user_channel(const std::string& user_id);

}  // namespace chatd::sql
