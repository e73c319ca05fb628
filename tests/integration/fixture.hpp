// The base of every integration test: the shared stack and small request helpers.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "harness.hpp"

namespace chatd::test {

inline constexpr const char* kSignedOut =
    "You are signed out or your session has expired. Please sign in again to continue.";

class StackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "integration tests run as root: they start PostgreSQL as the postgres user";
    stack_ = &Stack::get();
  }

  // A username no other test uses.
  static std::string unique(const std::string& base) {
    static std::atomic<int> counter{0};
    return base + std::to_string(::getpid()) + "x" + std::to_string(++counter);
  }

  HttpResponse call(const std::string& method, const std::string& path,
                    const std::string& token = "", const std::string& body = "") {
    std::vector<std::string> headers;
    if (!token.empty()) headers.push_back("Coder-Session-Token: " + token);
    return http(method, stack_->url(path), headers, body);
  }

  nlohmann::json create_chat(const std::string& token) {
    auto r = call("POST", "/api/v2/chats", token);
    EXPECT_EQ(r.status, 201) << r.body;
    return nlohmann::json::parse(r.body);
  }

  Stack* stack_ = nullptr;
};

}  // namespace chatd::test
