// API tokens: parsing "<id>-<secret>", generating, hashing, comparing.
#include "base/token.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

namespace chatd::base {
namespace {

constexpr std::string_view kId = "AbCdE01234";
constexpr std::string_view kSecret = "abcdefghijKLMNOPQRST01";

std::string reason(std::string_view token) {
  auto result = split_token(token);
  if (auto* why = std::get_if<std::string>(&result)) return *why;
  return "<valid>";
}

bool alphanumeric(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

TEST(SplitToken, ValidToken) {
  const std::string token = std::string(kId) + "-" + std::string(kSecret);
  auto result = split_token(token);
  ASSERT_TRUE(std::holds_alternative<TokenParts>(result)) << reason(token);
  EXPECT_EQ(std::get<TokenParts>(result).id, kId);
  EXPECT_EQ(std::get<TokenParts>(result).secret, kSecret);
}

TEST(SplitToken, WrongNumberOfParts) {
  EXPECT_EQ(reason(""), "incorrect amount of API key parts, expected 2 got 1");
  EXPECT_EQ(reason("AbCdE01234abcdefghijKLMNOPQRST01"),
            "incorrect amount of API key parts, expected 2 got 1");
  EXPECT_EQ(reason("AbCdE01234-abcdefghijKLMNOPQRST01-x"),
            "incorrect amount of API key parts, expected 2 got 3");
  EXPECT_EQ(reason("a-b-c-d"), "incorrect amount of API key parts, expected 2 got 4");
  EXPECT_EQ(reason("--"), "incorrect amount of API key parts, expected 2 got 3");
}

TEST(SplitToken, IdLength) {
  EXPECT_EQ(reason("-abcdefghijKLMNOPQRST01"), "invalid API key ID length, expected 10 got 0");
  EXPECT_EQ(reason("AbCdE0123-abcdefghijKLMNOPQRST01"),
            "invalid API key ID length, expected 10 got 9");
  EXPECT_EQ(reason("AbCdE012345-abcdefghijKLMNOPQRST01"),
            "invalid API key ID length, expected 10 got 11");
}

TEST(SplitToken, IdLengthIsCheckedBeforeSecretLength) {
  EXPECT_EQ(reason("abc-def"), "invalid API key ID length, expected 10 got 3");
}

TEST(SplitToken, SecretLength) {
  EXPECT_EQ(reason("AbCdE01234-"), "invalid API key secret length, expected 22 got 0");
  EXPECT_EQ(reason("AbCdE01234-abcdefghijKLMNOPQRST0"),
            "invalid API key secret length, expected 22 got 21");
  EXPECT_EQ(reason("AbCdE01234-abcdefghijKLMNOPQRST012"),
            "invalid API key secret length, expected 22 got 23");
}

TEST(SplitToken, BadCharacters) {
  const std::string kBad = "API key must contain only the characters A-Z, a-z and 0-9";
  EXPECT_EQ(reason("AbCdE0123_-abcdefghijKLMNOPQRST01"), kBad);
  EXPECT_EQ(reason("AbCdE01234-abcdefghijKLMNOPQRST0!"), kBad);
  EXPECT_EQ(reason("AbCdE01234-abcdefghij KLMNOPQRST0"), kBad);
  EXPECT_EQ(reason("AbCdE01234-abcdefghijKLMNOPQRST\xc3\xa9"), kBad);  // 'é', two bytes
  EXPECT_EQ(reason(std::string("AbCdE0123\0-abcdefghijKLMNOPQRST01", 33)), kBad);
}

TEST(GenerateToken, ShapeAndRoundTrip) {
  auto token = generate_token();
  EXPECT_EQ(token.id.size(), 10u);
  EXPECT_EQ(token.secret.size(), 22u);
  EXPECT_TRUE(alphanumeric(token.id)) << token.id;
  EXPECT_TRUE(alphanumeric(token.secret)) << token.secret;
  auto parsed = split_token(token.id + "-" + token.secret);
  ASSERT_TRUE(std::holds_alternative<TokenParts>(parsed));
  EXPECT_EQ(std::get<TokenParts>(parsed).id, token.id);
  EXPECT_EQ(std::get<TokenParts>(parsed).secret, token.secret);
}

TEST(GenerateToken, DiffersBetweenCalls) {
  std::set<std::string> ids, secrets;
  for (int i = 0; i < 100; ++i) {
    auto token = generate_token();
    ids.insert(token.id);
    secrets.insert(token.secret);
  }
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_EQ(secrets.size(), 100u);
}

TEST(GenerateToken, UsesTheWholeAlphabet) {
  // 1,000 secrets are 22,000 characters: every one of the 62 appears unless the generator is
  // broken (the chance that a fair one misses a character is below 1e-150).
  std::set<char> seen;
  for (int i = 0; i < 1000; ++i)
    for (char c : generate_token().secret) seen.insert(c);
  EXPECT_EQ(seen.size(), 62u);
}

TEST(HashSecret, KnownSha256) {
  EXPECT_EQ(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hash_secret(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(HashSecret, LowerCaseHexOf32Bytes) {
  auto hashed = hash_secret(kSecret);
  EXPECT_EQ(hashed.size(), 64u);
  EXPECT_TRUE(std::all_of(hashed.begin(), hashed.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  })) << hashed;
  EXPECT_NE(hash_secret("abd"), hash_secret("abc"));
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "Abc"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("ab", "abc"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_TRUE(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
  EXPECT_TRUE(constant_time_equal(hash_secret("abc"), hash_secret("abc")));
}

}  // namespace
}  // namespace chatd::base
