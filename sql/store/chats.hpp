// Chats: their list, creation, lookup, changes and deletion. The list and the lookup
// authenticate the caller in their own statement (one round trip: sql/store/auth.hpp).
#pragma once

#include <chrono>
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
  bool archived = false;
  int pin_order = 0;           // 0: not pinned
  std::string labels = "{}";   // a JSON object of strings
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

// Which of the caller's chats GET /api/v2/chats lists (API.md §8).
struct ChatListQuery {
  std::optional<bool> archived = false;  // none: archived or not
  std::optional<bool> running;           // none: any status
  std::optional<std::string> title;      // a case-insensitive substring of the title
  std::string labels = "[]";             // a JSON array of {"key":"value"}: all must be set
  std::string words = "[]";  // a JSON array of words and phrases: all in the title or a message
  std::optional<int> limit;  // none: all
  std::optional<std::string> before;  // a chat id: only the chats after it in the order
};

struct ChatPage {
  std::vector<ChatRecord> chats;
  bool cursor_found = true;  // `before` is one of the caller's chats
};

// What PATCH /api/v2/chats/{chat} changes: the fields given.
struct ChatChange {
  std::optional<std::string> title;
  std::optional<bool> archived;
  std::optional<int> pin_order;
  std::optional<std::string> labels;  // a JSON object
};

class ChatStore : Executor {
 public:
  using Executor::Executor;

  // The caller's chats that match, pinned first by pin_order, then newest first (owner_id not
  // filled).
  Authenticated<ChatPage> list(const KeyCheck& caller, const ChatListQuery& query);
  ChatRecord create(const std::string& owner_id);
  // The chat, whoever owns it; with `messages_up_to` bytes, also its messages if the caller
  // may read them (its owner or an admin) and they take at most so many bytes of JSON.
  Authenticated<ChatRead> get(const KeyCheck& caller, const std::string& id,
                              std::optional<uint64_t> messages_up_to = std::nullopt);
  // The owner's chat, for a watcher (owner_id not filled); none when it is not there.
  std::optional<ChatRecord> find(const std::string& chat_id, const std::string& owner_id);
  // A generated title: kept only while the user has not set one (update).
  void set_title(const std::string& chat_id, const std::string& title);
  // False when the owner has no such chat (any more).
  bool update(const std::string& chat_id, const std::string& owner_id, const ChatChange& change);
  // Stops the chat's running reply and deletes the chat with everything it holds; false when
  // the owner has no such chat.
  bool remove(const std::string& chat_id, const std::string& owner_id);
  // Deletes, as remove() does, up to `batch` chats archived `age` ago or more, unless
  // another worker is doing so; returns how many.
  size_t expire(std::chrono::seconds age, int batch);
};

}  // namespace chatd::sql
