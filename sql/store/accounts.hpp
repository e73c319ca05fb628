// Users and their API keys, for the admin commands (chatd users …, chatd tokens …).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sql/statement.hpp"

namespace chatd::sql {

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

class AccountStore : Executor {
 public:
  using Executor::Executor;

  // Returns the new user's id.
  std::string create_user(const std::string& username, const std::optional<std::string>& email,
                          bool admin);
  std::vector<UserRecord> list_users();
  bool set_user_status(const std::string& username, const std::string& status);

  // Returns the expiry, or nothing when the user does not exist.
  std::optional<std::string> create_api_key(const std::string& id, const std::string& hashed,
                                            const std::string& username, const std::string& name,
                                            long long lifetime_seconds);
  std::vector<ApiKeyInfo> list_api_keys(const std::string& username);
  bool delete_api_key(const std::string& id);
};

}  // namespace chatd::sql
