#include "sql/store/accounts.hpp"

#include "sql_queries.hpp"

namespace chatd::sql {

std::string AccountStore::create_user(const std::string& username,
                                      const std::optional<std::string>& email, bool admin) {
  try {
    return exec1(kNoRetry, query::users_insert, username, email, admin)[0].c_str();
  } catch (const pqxx::unique_violation&) {
    throw AlreadyExists("user \"" + username + "\" already exists");
  }
}

std::vector<UserRecord> AccountStore::list_users() {
  std::vector<UserRecord> users;
  for (const auto& row : exec(query::users_list)) {
    users.push_back({row["id"].c_str(), row["username"].c_str(), row["email"].c_str(),
                     row["status"].c_str(), row["is_admin"].as<bool>(), row["created_at"].c_str()});
  }
  return users;
}

bool AccountStore::set_user_status(const std::string& username, const std::string& status) {
  return !exec(query::users_set_status, username, status).empty();
}

std::optional<std::string> AccountStore::create_api_key(const std::string& id,
                                                        const std::string& hashed,
                                                        const std::string& username,
                                                        const std::string& name,
                                                        long long lifetime_seconds) {
  auto rows = exec(kNoRetry, query::api_keys_insert, id, hashed, username, name, lifetime_seconds);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].c_str();
}

std::vector<ApiKeyInfo> AccountStore::list_api_keys(const std::string& username) {
  std::vector<ApiKeyInfo> keys;
  for (const auto& row : exec(query::api_keys_list, username)) {
    keys.push_back({row["id"].c_str(), row["name"].c_str(), row["created_at"].c_str(),
                    row["expires_at"].c_str(), row["last_used"].c_str()});
  }
  return keys;
}

bool AccountStore::delete_api_key(const std::string& id) {
  return exec(query::api_keys_delete, id).affected_rows() > 0;
}

}  // namespace chatd::sql
