#include "base/token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace chatd::base {

namespace {

constexpr size_t kIdLength = 10;
constexpr size_t kSecretLength = 22;
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

bool alphanumeric(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

}  // namespace

std::string random_alphanumeric(size_t length) {
  std::string out;
  while (out.size() < length) {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
    for (unsigned char b : bytes) {
      // 62 * 4 = 248: rejecting 248..255 keeps every character equally likely.
      if (b < 248 && out.size() < length) out += kAlphabet[b % kAlphabet.size()];
    }
  }
  return out;
}

std::variant<TokenParts, std::string> split_token(std::string_view token) {
  size_t parts = static_cast<size_t>(std::count(token.begin(), token.end(), '-')) + 1;
  if (parts != 2)
    return "incorrect amount of API key parts, expected 2 got " + std::to_string(parts);
  size_t dash = token.find('-');
  std::string_view id = token.substr(0, dash), secret = token.substr(dash + 1);
  if (id.size() != kIdLength)
    return "invalid API key ID length, expected 10 got " + std::to_string(id.size());
  if (secret.size() != kSecretLength)
    return "invalid API key secret length, expected 22 got " + std::to_string(secret.size());
  if (!alphanumeric(id) || !alphanumeric(secret))
    return std::string("API key must contain only the characters A-Z, a-z and 0-9");
  return TokenParts{std::string(id), std::string(secret)};
}

TokenParts generate_token() {
  return {random_alphanumeric(kIdLength), random_alphanumeric(kSecretLength)};
}

std::string hash_secret(std::string_view secret) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(secret.data(), secret.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("sha256 failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace chatd::base
