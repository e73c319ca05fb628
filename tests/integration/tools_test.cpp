// The agentic tool loop through nginx (API.md §4 POST step 6, §5): the fake model calls tools of
// the real @modelcontextprotocol/server-everything, and the stored history replays to every
// provider type.
#include "fixture.hpp"

namespace chatd::test {
namespace {

using nlohmann::json;

class Tools : public ReplyTest {
 protected:
  void SetUp() override {
    ReplyTest::SetUp();
    if (!IsSkipped() && !stack_->mcp) GTEST_SKIP() << "node or server-everything is missing";
  }

  static json tool_step(std::vector<json> calls, const std::string& text = "") {
    json step = {{"tool_calls", calls}};
    if (!text.empty()) step["text"] = text;
    return step;
  }
  static json call(const std::string& name, json args) {
    return {{"name", name}, {"args", std::move(args)}};
  }
  static std::vector<json> results(const std::vector<std::string>& lines) {
    std::vector<json> out;
    for (const auto& line : lines)
      if (line.rfind("a:", 0) == 0) out.push_back(json::parse(line.substr(2))["result"]);
    return out;
  }
  static std::string text_of(const json& result) {
    std::string out;
    for (const auto& item : result.value("content", json::array()))
      if (item.value("type", "") == "text") out += item.value("text", "");
    return out;
  }
};

TEST_F(Tools, TheModelSeesTheServersTools) {
  auto r = run_command(
      {CHATD_BINARY, "tools", "--mcp-server", "name=everything;url=" + stack_->mcp->url()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("everything__echo"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("everything__get-sum"), std::string::npos) << r.out;
  // What the provider is sent: the tools, with their schemas.
  auto token = stack_->new_user_token(unique("toollist"));
  std::string chat = create_chat(token)["id"];
  auto reply = send(token, chat, "fake-openai", script_message({{"steps", {{{"text", "ok"}}}}}));
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(count_prefix(reply.lines(), "d:"), 1u) << reply.body;
}

TEST_F(Tools, TwoToolsWithRealResultsOnEveryProvider) {
  auto token = stack_->new_user_token(unique("twotools"));
  for (const auto& model : kModels) {
    SCOPED_TRACE(model);
    std::string chat = create_chat(token)["id"];
    json script = {{"steps",
                    {tool_step({call("everything__echo", {{"message", "hello from " + model}}),
                                call("everything__get-sum", {{"a", 2}, {"b", 3}})},
                               "Checking."),
                     {{"text", "Both tools answered."}}}}};
    auto r = send(token, chat, model, script_message(script));
    ASSERT_EQ(r.status, 200);
    auto lines = r.lines();
    EXPECT_EQ(count_prefix(lines, "3:"), 0u) << r.body;
    auto outputs = results(lines);
    ASSERT_EQ(outputs.size(), 2u) << r.body;
    EXPECT_EQ(text_of(outputs[0]), "Echo: hello from " + model);
    EXPECT_NE(text_of(outputs[1]).find("5"), std::string::npos) << outputs[1].dump();
    EXPECT_FALSE(outputs[0].contains("error"));

    auto stored = messages(token, chat);
    ASSERT_EQ(stored.size(), 2u);
    expect_stored_as_rebuilt(r, stored[1]);
    int invocations = 0;
    for (const auto& part : stored[1]["parts"]) {
      if (part["type"] != "tool-invocation") continue;
      ++invocations;
      EXPECT_EQ(part["toolInvocation"]["state"], "result");
    }
    EXPECT_EQ(invocations, 2);

    // The next turn replays the tool round trip in this provider's format.
    auto next = send(token, chat, model, script_message({{"steps", {{{"text", "Next turn."}}}}}));
    EXPECT_EQ(count_prefix(next.lines(), "3:"), 0u) << next.body;
    EXPECT_EQ(messages(token, chat).size(), 4u);
  }
}

TEST_F(Tools, ParallelCallsRunConcurrently) {
  auto token = stack_->new_user_token(unique("parallel"));
  std::string chat = create_chat(token)["id"];
  json slow = {{"duration", 1.5}, {"steps", 1}};
  json script = {{"steps",
                  {tool_step({call("everything__trigger-long-running-operation", slow),
                              call("everything__trigger-long-running-operation", slow)}),
                   {{"text", "done"}}}}};
  auto r = send(token, chat, "fake-anthropic", script_message(script));
  ASSERT_EQ(r.status, 200);
  auto first_call = r.time_to("9:{");
  auto second_result = r.time_to("e:{\"finishReason\":\"tool-calls\"");
  auto wall = second_result - first_call;
  EXPECT_GE(wall.count(), 1400);
  EXPECT_LT(wall.count(), 2600) << "the two 1.5 s calls ran one after the other";
  for (const auto& result : results(r.lines())) EXPECT_FALSE(result.contains("error")) << result;
}

TEST_F(Tools, FailingUnknownAndTimedOutToolsLetTheLoopGoOn) {
  auto token = stack_->new_user_token(unique("badtools"));
  std::string chat = create_chat(token)["id"];
  json script = {
      {"steps",
       {tool_step(
            {call("nope__nothing", json::object()), call("everything__get-sum", {{"a", "two"}}),
             // The server's timeout in this stack is 3 s.
             call("everything__trigger-long-running-operation", {{"duration", 6}, {"steps", 1}})}),
        {{"text", "I could not use the tools."}}}}};
  auto r = send(token, chat, "fake-google", script_message(script));
  ASSERT_EQ(r.status, 200);
  auto lines = r.lines();
  EXPECT_EQ(count_prefix(lines, "3:"), 0u) << r.body;
  EXPECT_EQ(count_prefix(lines, "d:"), 1u) << r.body;
  auto outputs = results(lines);
  ASSERT_EQ(outputs.size(), 3u);
  EXPECT_TRUE(outputs[0].contains("error")) << outputs[0];
  EXPECT_TRUE(outputs[1].contains("error") || outputs[1].value("isError", false)) << outputs[1];
  EXPECT_TRUE(outputs[2].contains("error")) << outputs[2];
  EXPECT_EQ(messages(token, chat)[1]["content"], "I could not use the tools.");
}

TEST_F(Tools, TheStepCapEndsTheReply) {
  auto token = stack_->new_user_token(unique("cap"));
  std::string chat = create_chat(token)["id"];
  json steps = json::array();
  for (int i = 0; i < 12; ++i)
    steps.push_back(tool_step({call("everything__echo", {{"message", std::to_string(i)}})}));
  auto r = send(token, chat, "fake-openai", script_message({{"steps", steps}}));
  ASSERT_EQ(r.status, 200);
  auto lines = r.lines();
  EXPECT_EQ(count_prefix(lines, "f:"), 10u) << "max-steps is 10";
  EXPECT_EQ(count_prefix(lines, "3:"), 0u);
  EXPECT_EQ(lines.back().rfind("d:{\"finishReason\":\"tool-calls\"", 0), 0u) << lines.back();
  expect_stored_as_rebuilt(r, messages(token, chat)[1]);
}

TEST_F(Tools, ADownServerDoesNotDelayAPlainReply) {
  // The stack's "down" MCP server refuses connections; its tools are simply absent.
  auto token = stack_->new_user_token(unique("down"));
  std::string chat = create_chat(token)["id"];
  auto r = send(token, chat, "fake-openai",
                script_message({{"steps", {{{"text", "fast"}, {"token_delay_ms", 0}}}}}));
  ASSERT_EQ(r.status, 200);
  EXPECT_LT(r.time_to("d:{").count(), 1000) << r.body;
  EXPECT_EQ(count_prefix(r.lines(), "3:"), 0u);
}

}  // namespace
}  // namespace chatd::test
