// Chats: their list, creation, lookup and title.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sql/statement.hpp"

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

class ChatStore : Executor {
 public:
  using Executor::Executor;

  std::vector<ChatRecord> list(const std::string& owner_id);  // owner_id not filled
  ChatRecord create(const std::string& owner_id);
  std::optional<ChatRecord> get(const std::string& id);
  void set_title(const std::string& chat_id, const std::string& title);
};

}  // namespace chatd::sql
