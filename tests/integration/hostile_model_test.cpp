// A hostile model or tool (issue 14): any byte in text, reasoning, tool arguments and tool
// results. What is stored is what was streamed, the reply ends as the model ended it, and no
// reply text reaches a log line.
#include <fstream>
#include <iterator>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using nlohmann::json;

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD
const std::string kNul("\0", 1);                  // U+0000 (a literal would end at it)

class HostileModel : public ReplyTest {
 protected:
  std::string chat_status(const std::string& token, const std::string& chat) {
    return json::parse(call("GET", "/api/v2/chats/" + chat, token).body)["status"];
  }
  std::string chatd_log() const {
    std::ifstream in(stack_->chatd->log_path());
    return {std::istreambuf_iterator<char>(in), {}};
  }
};

// PostgreSQL's jsonb refuses U+0000: it used to fail every checkpoint and the finish, so the
// reply was taken for dead while it streamed, and lost.
TEST_F(HostileModel, AU0000IsStoredAsItWasStreamedOnEveryProvider) {
  auto token = stack_->new_user_token(unique("nul"));
  for (const auto& model : kModels) {
    SCOPED_TRACE(model);
    std::string chat = create_chat(token)["id"];
    json steps = json::array();
    if (stack_->mcp) {
      // Arguments and the echoed result carry it too.
      steps.push_back(
          {{"text", "call" + kNul + "ing"},
           {"tool_calls",
            {{{"name", "everything__echo"}, {"args", {{"message", "to" + kNul + "ol"}}}}}}});
    }
    steps.push_back({{"text", "alpha be" + kNul + "ta gamma"}});
    auto r = send(token, chat, model, script_message({{"steps", steps}}));
    ASSERT_EQ(r.status, 200);
    auto lines = r.lines();
    EXPECT_EQ(count_prefix(lines, "3:"), 0u) << r.body;
    ASSERT_EQ(count_prefix(lines, "d:"), 1u) << r.body;
    EXPECT_EQ(lines.back().rfind("d:{\"finishReason\":\"stop\"", 0), 0u) << r.body;
    EXPECT_EQ(r.body.find("\\u0000"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("be" + kReplacement + "ta"), std::string::npos) << r.body;
    if (stack_->mcp) {
      EXPECT_NE(r.body.find("to" + kReplacement + "ol"), std::string::npos) << r.body;
      EXPECT_NE(r.body.find("Echo: to" + kReplacement + "ol"), std::string::npos) << r.body;
    }

    auto stored = messages(token, chat);
    ASSERT_EQ(stored.size(), 2u) << "the reply was lost";
    expect_stored_as_rebuilt(r, stored[1]);
    EXPECT_EQ(chat_status(token, chat), "idle");
    auto reason = stack_->sql("SELECT finish_reason FROM chat_messages WHERE chat_id = '" + chat +
                              "' AND content->>'role' = 'assistant'");
    EXPECT_EQ(reason.at(0).at(0), "stop");
    // The chat goes on: the history with U+FFFD replays to the provider.
    auto next = send(token, chat, model, script_message({{"steps", {{{"text", "next"}}}}}));
    EXPECT_EQ(count_prefix(next.lines(), "d:"), 1u) << next.body;
    EXPECT_EQ(messages(token, chat).size(), 4u);
  }
  std::string log = chatd_log();
  EXPECT_EQ(log.find("gamma"), std::string::npos) << "reply text in chatd's log";
  EXPECT_EQ(log.find("alpha be"), std::string::npos) << "reply text in chatd's log";
}

// Whatever else makes PostgreSQL refuse a reply's record (here a trigger that refuses a word,
// quoting it): the reply ends with an error part instead of streaming on without a heartbeat,
// what was checkpointed before is stored as failed, the chat is free, and the refused text is
// in no log line.
TEST_F(HostileModel, ARefusedCheckpointEndsTheReplyWithAnErrorPart) {
  stack_->sql(R"(
    CREATE OR REPLACE FUNCTION refuse_marker() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF strpos(NEW.parts || coalesce(NEW.message::text, ''), 'REFUSEME') > 0 THEN
        RAISE EXCEPTION 'refused: %', NEW.parts;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_marker BEFORE UPDATE ON chat_replies
      FOR EACH ROW EXECUTE FUNCTION refuse_marker();)");
  auto token = stack_->new_user_token(unique("refused"));
  std::string chat = create_chat(token)["id"];
  std::string words;
  for (int i = 0; i < 30; ++i) words += (i == 15 ? "REFUSEME" : "w" + std::to_string(i)) + " ";
  auto r = send(token, chat, "fake-openai",
                script_message({{"steps", {{{"text", words}, {"token_delay_ms", 100}}}}}));
  stack_->sql("DROP TRIGGER refuse_marker ON chat_replies; DROP FUNCTION refuse_marker();");
  ASSERT_EQ(r.status, 200);
  auto lines = r.lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "3:\"The reply failed: it could not be stored.\"") << r.body;
  EXPECT_EQ(count_prefix(lines, "d:"), 0u) << r.body;
  EXPECT_EQ(r.body.find("w29"), std::string::npos) << "the reply streamed on: " << r.body;

  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u) << "nothing of the reply was stored";
  std::string content = stored[1]["content"];
  EXPECT_NE(content.find("w0"), std::string::npos) << content;
  EXPECT_EQ(content.find("REFUSEME"), std::string::npos) << content;
  auto reason = stack_->sql("SELECT finish_reason FROM chat_messages WHERE chat_id = '" + chat +
                            "' AND content->>'role' = 'assistant'");
  EXPECT_EQ(reason.at(0).at(0), "error");
  EXPECT_EQ(chat_status(token, chat), "idle");
  EXPECT_EQ(chatd_log().find("REFUSEME"), std::string::npos) << "refused text in chatd's log";
}

}  // namespace
}  // namespace chatd::test
