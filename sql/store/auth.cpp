#include "sql/store/auth.hpp"

#include "sql_queries.hpp"

namespace chatd::sql {

std::optional<ApiKeyRecord> key_from_rows(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  const auto& row = rows[0];
  ApiKeyRecord key;
  key.hashed_secret = row["key_hashed_secret"].c_str();
  key.expires_at = row["key_expires_at"].c_str();
  key.expired = row["key_expired"].as<bool>();
  key.user_id = row["key_user_id"].c_str();
  key.user_status = row["key_user_status"].c_str();
  key.user_is_admin = row["key_user_is_admin"].as<bool>();
  if (!row["key_retry_after"].is_null()) key.retry_after = row["key_retry_after"].as<double>();
  key.admitted = row["admitted"].as<bool>();
  return key;
}

std::optional<ApiKeyRecord> AuthStore::find_key(const KeyCheck& check) {
  return key_from_rows(exec(query::auth_find_key, check.key_id, check.hashed_secret,
                            check.limit.seconds_per_request, check.limit.burst));
}

}  // namespace chatd::sql
