#include "sql/store/auth.hpp"

#include "sql_queries.hpp"

namespace chatd::sql {

std::optional<ApiKeyRecord> AuthStore::find_key(const std::string& id,
                                                const std::string& hashed_secret,
                                                const RateLimit& limit) {
  auto rows = exec(query::auth_find_key, id, hashed_secret, limit.seconds_per_request, limit.burst);
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  ApiKeyRecord key;
  key.hashed_secret = row["hashed_secret"].c_str();
  key.expires_at = row["expires_at"].c_str();
  key.expired = row["expired"].as<bool>();
  key.user_id = row["user_id"].c_str();
  key.user_status = row["status"].c_str();
  key.user_is_admin = row["is_admin"].as<bool>();
  if (!row["retry_after"].is_null()) key.retry_after = row["retry_after"].as<double>();
  return key;
}

}  // namespace chatd::sql
