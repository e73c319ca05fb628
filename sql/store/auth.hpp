// Authentication: an API key with its user, and the per-user rate limit, in one round trip:
// of its own (AuthStore), or in the statement of a read (the chats store's).
#pragma once

#include <optional>
#include <pqxx/pqxx>
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
  bool admitted = false;  // every check passed: a read's data came with it
};

// The per-user request rate: one request every `seconds_per_request` on average, `burst` at
// once after a quiet spell. A zero interval means no limit.
struct RateLimit {
  double seconds_per_request = 0;
  double burst = 1;
};

// A token to check: the key's id and its secret's hex SHA-256; when they are good, the request
// counts against `limit`.
struct KeyCheck {
  std::string key_id;
  std::string hashed_secret;
  RateLimit limit;
};

// What a statement that calls chatd_authenticate (migration 0008) said of the key, from any of
// its rows: none for an unknown key (then the statement has no rows).
std::optional<ApiKeyRecord> key_from_rows(const pqxx::result& rows);

// A read that authenticated in its own statement: the key, and the value read for it (empty
// unless key->admitted).
template <class T>
struct Authenticated {
  std::optional<ApiKeyRecord> key;
  T value{};
};

class AuthStore : Executor {
 public:
  using Executor::Executor;

  // The key and its user. When the secret matches and key and user are good, the same round
  // trip also moves last_used and counts the request against the limit.
  std::optional<ApiKeyRecord> find_key(const KeyCheck& check);
};

}  // namespace chatd::sql
