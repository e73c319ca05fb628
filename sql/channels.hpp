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

}  // namespace chatd::sql
