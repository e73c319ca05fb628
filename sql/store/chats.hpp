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

// A chat looked up, with its messages when they were asked for and small enough.
struct ChatRead {
  std::optional<ChatRecord> chat;  // none: no such chat
  // All of the chat's messages, oldest first, as their JSON texts joined by commas (empty: the
  // chat has none); or nothing, when they take more than the bytes asked for (read them in
  // batches: MessageStore::batch).
  std::optional<std::string> messages;
};

class ChatStore : Executor {
 public:
  using Executor::Executor;

  // The caller's chats, newest first (owner_id not filled).
  Authenticated<std::vector<ChatRecord>> list(const KeyCheck& caller);
  ChatRecord create(const std::string& owner_id);
  // The chat, whoever owns it; with `messages_up_to` bytes, also its messages if the caller
  // may read them (its owner or an admin) and they take at most so many bytes of JSON.
  Authenticated<ChatRead> get(const KeyCheck& caller, const std::string& id,
                              std::optional<uint64_t> messages_up_to = std::nullopt);
  void set_title(const std::string& chat_id, const std::string& title);
};

}  // namespace chatd::sql
