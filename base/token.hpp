// API tokens: "<id>-<secret>", id 10 and secret 22 characters of [A-Za-z0-9]. Only
// sha256(secret) is stored.
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace chatd::base {

struct TokenParts {
  std::string id;
  std::string secret;
};

// The parts, or the reason the token is malformed (Coder's wording where Coder has one).
std::variant<TokenParts, std::string> split_token(std::string_view token);

// A new random token from the system's CSPRNG.
TokenParts generate_token();

// `length` characters of [A-Za-z0-9] from the CSPRNG (ids of tokens and messages).
std::string random_alphanumeric(size_t length);

// Lower-case hex of sha256(secret).
std::string hash_secret(std::string_view secret);

// Compares two strings in time that depends only on their lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace chatd::base
