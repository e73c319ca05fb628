// max-message-size and max-chat-size (README "Limits"), on an instance of their own with small
// ones (32 KiB and 200 KiB): a larger user message is a 413, a longer reply ends at the limit
// with finish reason "length" on every provider (stored as streamed), and a full chat refuses
// the next message with a 400 while it stays readable and the user's other chats go on.
#include "fixture.hpp"

namespace chatd::test {
namespace {

using nlohmann::json;

constexpr size_t kMaxMessage = 32 * 1024;
constexpr size_t kMaxChat = 200 * 1024;

class SizeLimits : public ReplyTest {
 protected:
  void SetUp() override {
    ReplyTest::SetUp();
    if (IsSkipped() || instance_) return;
    instance_ = std::make_unique<Instance>(
        *stack_, "sizes",
        std::vector<std::pair<std::string, std::string>>{{"--max-message-size", "32KiB"},
                                                         {"--max-chat-size", "200KiB"}});
  }
  static void TearDownTestSuite() { instance_.reset(); }

  StreamedResponse post_here(const std::string& token, const std::string& chat,
                             const std::string& model, const json& message) {
    return http_stream("POST", instance_->url("/api/v2/chats/" + chat + "/messages"),
                       {"Coder-Session-Token: " + token, "Content-Type: application/json"},
                       json({{"model", model}, {"message", message}}).dump());
  }
  // A reply of about `bytes` of text, as fast as the fake can send it.
  static json long_reply(size_t bytes) {
    return script_message(
        {{"steps", {{{"text", "abcdefghi "}, {"repeat", bytes / 10}, {"token_delay_ms", 0}}}}});
  }
  // What the chat's row says it stores, and what its messages add up to.
  std::pair<std::string, std::string> stored_bytes(const std::string& chat) {
    auto row = stack_->sql(
        "SELECT stored_bytes, (SELECT coalesce(sum(octet_length(content::text)), 0) FROM "
        "chat_messages WHERE chat_id = chats.id) FROM chats WHERE id = '" +
        chat + "'");
    return {row.at(0).at(0), row.at(0).at(1)};
  }

  static inline std::unique_ptr<Instance> instance_;
};

TEST_F(SizeLimits, AUserMessageAboveTheLimitIs413AndNothingIsStored) {
  auto token = stack_->new_user_token(unique("bigmsg"));
  std::string chat = create_chat(token)["id"];
  auto r = post_here(token, chat, "fake-openai",
                     // Its text twice (content and parts): 40 KB, under the 64 KiB body limit.
                     script_message({{"steps", {{{"text", "no"}}}}}, std::string(20'000, 'x')));
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  auto body = json::parse(r.body, nullptr, false);
  EXPECT_EQ(body.value("message", ""), "Message too large.") << r.body;
  EXPECT_NE(body.value("detail", "").find("a message may have at most 32768"), std::string::npos)
      << r.body;
  EXPECT_TRUE(messages(token, chat).empty());
  // The chat was never claimed: a message that fits goes through.
  auto ok = post_here(token, chat, "fake-openai", script_message({{"steps", {{{"text", "ok"}}}}}));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(count_prefix(ok.lines(), "d:"), 1u) << ok.body;
}

TEST_F(SizeLimits, AReplyEndsAtTheLimitWithFinishReasonLengthOnEveryProvider) {
  auto token = stack_->new_user_token(unique("longreply"));
  for (const auto& model : kModels) {
    SCOPED_TRACE(model);
    std::string chat = create_chat(token)["id"];
    auto r = post_here(token, chat, model, long_reply(100'000));
    ASSERT_EQ(r.status, 200) << r.body;
    auto lines = r.lines();
    EXPECT_EQ(count_prefix(lines, "3:"), 0u) << r.body;
    ASSERT_EQ(count_prefix(lines, "d:"), 1u) << r.body;
    EXPECT_EQ(lines.back().rfind("d:{\"finishReason\":\"length\"", 0), 0u) << lines.back();
    EXPECT_EQ(count_prefix(lines, "e:{\"finishReason\":\"length\""), 1u) << r.body;
    // Cut at the limit, not long after it: parts are small here.
    EXPECT_GE(r.body.size(), kMaxMessage);
    EXPECT_LT(r.body.size(), kMaxMessage + 4096);
    auto stored = messages(token, chat);
    ASSERT_EQ(stored.size(), 2u);
    expect_stored_as_rebuilt(r, stored[1]);
    auto reason = stack_->sql("SELECT finish_reason FROM chat_messages WHERE chat_id = '" + chat +
                              "' AND content->>'role' = 'assistant'");
    EXPECT_EQ(reason.at(0).at(0), "length");
    auto [counted, summed] = stored_bytes(chat);
    EXPECT_EQ(counted, summed);
  }
}

TEST_F(SizeLimits, AFullChatRefusesTheNextMessageWith400) {
  auto token = stack_->new_user_token(unique("fullchat"));
  std::string chat = create_chat(token)["id"];
  // Each exchange stores ~65 KB (the cut reply's text twice: content and parts).
  int sent = 0;
  HttpResponse refused;
  for (; sent < 10; ++sent) {
    auto r = post_here(token, chat, "fake-openai", long_reply(100'000));
    if (r.status != 200) {
      refused = r;
      break;
    }
    EXPECT_EQ(count_prefix(r.lines(), "d:"), 1u) << r.body;
  }
  EXPECT_GE(sent, 3);
  ASSERT_EQ(refused.status, 400) << refused.body;
  auto body = json::parse(refused.body, nullptr, false);
  EXPECT_EQ(body.value("message", ""), "This chat is full.") << refused.body;
  EXPECT_NE(body.value("detail", "").find("may store at most 204800; start a new chat"),
            std::string::npos)
      << refused.body;
  auto [counted, summed] = stored_bytes(chat);
  EXPECT_EQ(counted, summed);
  EXPECT_GE(std::stoul(counted) + 100, kMaxChat - kMaxMessage);
  // Still readable, nothing half-stored, not stuck; the user's other chats go on.
  EXPECT_EQ(messages(token, chat).size(), 2u * sent);
  EXPECT_EQ(json::parse(call("GET", "/api/v2/chats/" + chat, token).body)["status"], "idle");
  std::string other = create_chat(token)["id"];
  auto r = post_here(token, other, "fake-openai", script_message({{"steps", {{{"text", "ok"}}}}}));
  EXPECT_EQ(r.status, 200) << r.body;
}

}  // namespace
}  // namespace chatd::test
