// The typed data access the handlers and commands call. Each method is one prepared statement
// (named after its sql/queries/*.sql file) on a connection borrowed from the pool.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sql/pool.hpp"

namespace chatd::sql {

struct ApiKeyRecord {
  std::string hashed_secret;  // hex of sha256(secret)
  std::string expires_at;     // RFC 3339
  bool expired = false;
  bool touch_due = false;  // last_used is older than a minute
  std::string user_id;
  std::string user_status;
  bool user_is_admin = false;
};

struct ChatRecord {
  std::string id;
  std::string owner_id;
  std::string created_at;
  std::string updated_at;
  std::string title;
};

struct UserRecord {
  std::string id;
  std::string username;
  std::string email;
  std::string status;
  bool is_admin = false;
  std::string created_at;
};

struct ApiKeyInfo {
  std::string id;
  std::string name;
  std::string created_at;
  std::string expires_at;
  std::string last_used;
};

// Thrown when a unique constraint refuses a row (e.g. a username that exists).
class AlreadyExists : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Store {
 public:
  explicit Store(Pool& pool) : pool_(pool) {}

  bool ping();

  std::optional<ApiKeyRecord> find_api_key(const std::string& id);
  void touch_api_key(const std::string& id);

  std::vector<ChatRecord> list_chats(const std::string& owner_id);  // owner_id not filled
  ChatRecord create_chat(const std::string& owner_id);
  std::optional<ChatRecord> get_chat(const std::string& id);
  // The chat's messages as a JSON array text, oldest first, straight from the stored JSON.
  std::string chat_messages_json(const std::string& chat_id);

  // One reply per chat: claims the chat unless a reply with a fresh heartbeat holds it.
  bool begin_reply(const std::string& chat_id, const std::string& message_id,
                   int stale_after_seconds);
  void heartbeat_reply(const std::string& chat_id, const std::string& message_id);
  void end_reply(const std::string& chat_id, const std::string& message_id);

  struct StoredMessage {
    std::string chat_id;
    std::string model;
    std::string provider;
    std::string content;        // the UI message as JSON text
    std::string finish_reason;  // empty for a user message
    std::string prompt_tokens;  // empty: unknown
    std::string completion_tokens;
  };
  // Stores the message and moves chats.updated_at to its time.
  void insert_message(const StoredMessage& message);
  void set_chat_title(const std::string& chat_id, const std::string& title);

  std::string create_user(const std::string& username, const std::string& email, bool admin);
  std::vector<UserRecord> list_users();
  bool set_user_status(const std::string& username, const std::string& status);

  // Returns the expiry, or nothing when the user does not exist.
  std::optional<std::string> create_api_key(const std::string& id, const std::string& hashed,
                                            const std::string& username, const std::string& name,
                                            long long lifetime_seconds);
  std::vector<ApiKeyInfo> list_api_keys(const std::string& username);
  bool delete_api_key(const std::string& id);

 private:
  Pool& pool_;
};

}  // namespace chatd::sql
