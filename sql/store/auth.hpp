// Authentication: an API key with its user, and the per-user rate limit, in one round trip.
#pragma once

#include <optional>
#include <string>

#include "sql/statement.hpp"

namespace chatd::sql {

struct ApiKeyRecord {
  std::string hashed_secret;  // hex of sha256(secret)
  std::string expires_at;     // RFC 3339
  bool expired = false;
  std::string user_id;
  std::string user_status;
  bool user_is_admin = false;
  // Set when the per-user rate limit refused this request: seconds until one is admitted.
  std::optional<double> retry_after;
};

// The per-user request rate: one request every `seconds_per_request` on average, `burst` at
// once after a quiet spell. A zero interval means no limit.
struct RateLimit {
  double seconds_per_request = 0;
  double burst = 1;
};

class AuthStore : Executor {
 public:
  using Executor::Executor;

  // The key and its user. When `hashed_secret` (hex) matches and key and user are good, the
  // same round trip also moves last_used and counts the request against `limit`.
  std::optional<ApiKeyRecord> find_key(const std::string& id, const std::string& hashed_secret,
                                       const RateLimit& limit);
};

}  // namespace chatd::sql
