// Chats: their list, creation, lookup and title. The list and the lookup authenticate the
// caller in their own statement (one round trip: sql/store/auth.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sql/statement.hpp"
#include "sql/store/auth.hpp"
#include "sql/store/messages.hpp"

namespace chatd::sql {

struct ChatRecord {
  std::string id;
  std::string owner_id;
  std::string created_at;
  std::string updated_at;
  std::string title;
  bool running = false;        // a reply is being generated
  long long stored_bytes = 0;  // its messages' JSON (filled by get only)
};

// A chat looked up, with its first messages when they were asked for.
struct ChatRead {
  std::optional<ChatRecord> chat;  // none: no such chat
  MessageBatch messages;
  bool all_messages = false;  // `messages` are all of the chat's
};

class ChatStore : Executor {
 public:
  using Executor::Executor;

  // The caller's chats, newest first (owner_id not filled).
  Authenticated<std::vector<ChatRecord>> list(const KeyCheck& caller);
  ChatRecord create(const std::string& owner_id);
  // The chat, whoever owns it. With `messages` > 0 also its messages, oldest first, if the
  // caller may read them (its owner or an admin): all of them when they take at most
  // `all_bytes` of JSON, else the first `messages`.
  Authenticated<ChatRead> get(const KeyCheck& caller, const std::string& id, int messages = 0,
                              uint64_t all_bytes = 0);
  void set_title(const std::string& chat_id, const std::string& title);
};

}  // namespace chatd::sql
