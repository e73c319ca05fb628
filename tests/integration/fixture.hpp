// The base of every integration test: the shared stack and small request helpers.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
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

  void TearDown() override {
    for (const auto& report : new_sanitizer_reports())
      ADD_FAILURE() << "sanitizer report of a process the tests started: " << report;
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

// One model of each wire format, all served by the fake provider.
inline const std::vector<std::string> kModels = {"fake-openai", "fake-anthropic", "fake-google"};

// Sending messages and checking replies: the base of the streaming and tool-loop tests.
class ReplyTest : public StackTest {
 protected:
  // The URL of a Link header's rel, without the origin ("" when it has none).
  static std::string link(const HttpResponse& r, const std::string& rel) {
    std::string header = r.header("link");
    size_t at = header.find("; rel=\"" + rel + "\"");
    if (at == std::string::npos) return "";
    size_t open = header.rfind('<', at);
    return header.substr(open + 1, header.find('>', open) - open - 1);
  }
  // A user message whose text drives the fake provider.
  static nlohmann::json script_message(const nlohmann::json& script,
                                       const std::string& text = "Hello there") {
    return {{"role", "user"},
            {"content", text + "\nSCRIPT " + script.dump()},
            {"parts", nlohmann::json::array(
                          {{{"type", "text"}, {"text", text + "\nSCRIPT " + script.dump()}}})}};
  }

  StreamedResponse post(const std::string& token, const std::string& chat,
                        const nlohmann::json& body) {
    return http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"),
                       {"Coder-Session-Token: " + token, "Content-Type: application/json"},
                       body.dump());
  }

  StreamedResponse send(const std::string& token, const std::string& chat, const std::string& model,
                        const nlohmann::json& message) {
    return post(token, chat, {{"model", model}, {"message", message}});
  }

  nlohmann::json messages(const std::string& token, const std::string& chat) {
    auto r = call("GET", "/api/v2/chats/" + chat + "/messages", token);
    EXPECT_EQ(r.status, 200);
    return nlohmann::json::parse(r.body);
  }

  // The stored assistant message equals what the AI SDK client rebuilt from the stream.
  void expect_stored_as_rebuilt(const StreamedResponse& r, const nlohmann::json& stored) {
    auto rebuilt = nlohmann::json::parse(rebuild_with_ai_sdk(r.body));
    ASSERT_TRUE(rebuilt["message"].is_object()) << rebuilt.dump();
    nlohmann::json client = rebuilt["message"];
    nlohmann::json server = stored;
    client.erase("createdAt");
    server.erase("createdAt");
    // How the reply ended is the server's, beside the AI SDK message (API.md §8).
    EXPECT_TRUE(server["finish_reason"].is_string()) << server.dump();
    server.erase("finish_reason");
    server.erase("interrupted");
    EXPECT_EQ(server, client) << "stream:\n" << r.body;
  }

  static size_t count_prefix(const std::vector<std::string>& lines, const std::string& prefix) {
    return static_cast<size_t>(std::count_if(
        lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; }));
  }
};

}  // namespace chatd::test
