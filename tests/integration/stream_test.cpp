// POST /api/v2/chats/{chat}/messages through nginx against the fake provider, for each wire
// format: parts arrive over time, the real AI SDK client accepts every stream, and the stored
// message is the one the client rebuilds (API.md §4 POST, issue 3).
#include <filesystem>
#include <thread>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using nlohmann::json;

class Stream : public ReplyTest {};

TEST_F(Stream, TextReplyArrivesPartByPartFromEveryProvider) {
  auto token = stack_->new_user_token(unique("text"));
  for (const auto& model : kModels) {
    SCOPED_TRACE(model);
    std::string chat = create_chat(token)["id"];
    json script = {{"steps", {{{"text", "one two three four five six"}, {"token_delay_ms", 80}}}},
                   {"title", "Counting words"}};
    auto r = send(token, chat, model, script_message(script));
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.header("x-vercel-ai-data-stream"), "v1");
    EXPECT_EQ(r.header("cache-control"), "no-cache");
    // Streamed, not one burst at the end: the text arrived in several pieces over time.
    auto first = r.time_to("0:\"");
    auto last = r.time_to("d:{");
    EXPECT_GE(r.chunks.size(), 4u);
    EXPECT_GE((last - first).count(), 300) << "first text at " << first.count() << " ms";

    auto lines = r.lines();
    ASSERT_GE(lines.size(), 4u);
    EXPECT_EQ(lines.front().rfind("f:{\"messageId\":\"msg-", 0), 0u) << lines.front();
    EXPECT_EQ(count_prefix(lines, "f:"), 1u);
    EXPECT_EQ(count_prefix(lines, "e:"), 1u);
    EXPECT_EQ(count_prefix(lines, "d:"), 1u);
    EXPECT_EQ(count_prefix(lines, "3:"), 0u);
    EXPECT_EQ(lines.back().rfind("d:{\"finishReason\":\"stop\"", 0), 0u) << lines.back();
    auto title_line = std::find_if(lines.begin(), lines.end(),
                                   [](const std::string& l) { return l.rfind("2:", 0) == 0; });
    ASSERT_NE(title_line, lines.end()) << r.body;
    EXPECT_EQ(json::parse(title_line->substr(2)),
              json::parse(R"([{"type":"chat-title","title":"Counting words"}])"));

    auto stored = messages(token, chat);
    ASSERT_EQ(stored.size(), 2u);
    EXPECT_EQ(stored[0]["role"], "user");
    EXPECT_EQ(stored[1]["role"], "assistant");
    EXPECT_EQ(stored[1]["content"], "one two three four five six");
    expect_stored_as_rebuilt(r, stored[1]);
    // The messageId of the stream is the stored message's id.
    EXPECT_NE(lines.front().find(stored[1]["id"].get<std::string>()), std::string::npos);
    auto chat_now = json::parse(call("GET", "/api/v2/chats/" + chat, token).body);
    EXPECT_EQ(chat_now["title"], "Counting words");
    auto row = stack_->sql(
        "SELECT model, provider, finish_reason, completion_tokens > 0 FROM "
        "chat_messages WHERE chat_id = '" +
        chat + "' ORDER BY id DESC LIMIT 1");
    EXPECT_EQ(row.at(0).at(0), model);
    EXPECT_EQ(row.at(0).at(2), "stop");
    EXPECT_EQ(row.at(0).at(3), "t");
    // A user message has no finish reason and no token counts: NULL, not '' or 0.
    auto user_row = stack_->sql(
        "SELECT finish_reason, prompt_tokens, completion_tokens FROM chat_messages "
        "WHERE chat_id = '" +
        chat + "' AND content->>'role' = 'user'");
    EXPECT_EQ(user_row, (std::vector<std::vector<std::string>>{{"NULL", "NULL", "NULL"}}));
  }
}

TEST_F(Stream, ToolCallStepsAndTheNextTurnOnEveryProvider) {
  auto token = stack_->new_user_token(unique("tools"));
  for (const auto& model : kModels) {
    SCOPED_TRACE(model);
    std::string chat = create_chat(token)["id"];
    json script = {{"steps",
                    {{{"text", "Let me look."},
                      {"tool_calls",
                       {{{"name", "lookup"}, {"args", {{"q", "weather"}}}},
                        {{"name", "lookup"}, {"args", {{"q", "time"}}}}}}},
                     {{"text", "All done."}}}}};
    auto r = send(token, chat, model, script_message(script));
    ASSERT_EQ(r.status, 200) << r.error;
    auto lines = r.lines();
    EXPECT_EQ(count_prefix(lines, "f:"), 2u) << r.body;
    EXPECT_EQ(count_prefix(lines, "9:"), 2u) << r.body;
    EXPECT_EQ(count_prefix(lines, "a:"), 2u) << r.body;
    EXPECT_EQ(count_prefix(lines, "d:"), 1u) << r.body;
    EXPECT_NE(r.body.find("e:{\"finishReason\":\"tool-calls\""), std::string::npos) << r.body;
    // No tool source is configured: the model is told the tool is unknown, and goes on.
    EXPECT_NE(r.body.find(R"("result":{"error":"unknown tool \"lookup\""})"), std::string::npos);
    auto stored = messages(token, chat);
    ASSERT_EQ(stored.size(), 2u);
    expect_stored_as_rebuilt(r, stored[1]);
    EXPECT_EQ(stored[1]["content"], "Let me look.All done.");

    // The next turn replays the tool round trip to the provider; it must accept it.
    auto again =
        send(token, chat, model, script_message({{"steps", {{{"text", "Second turn."}}}}}));
    ASSERT_EQ(again.status, 200);
    EXPECT_EQ(count_prefix(again.lines(), "3:"), 0u) << again.body;
    EXPECT_EQ(messages(token, chat).size(), 4u);
  }
}

TEST_F(Stream, TitleDoesNotDelayTheFirstByte) {
  auto token = stack_->new_user_token(unique("title"));
  std::string chat = create_chat(token)["id"];
  json script = {{"steps", {{{"text", "quick answer"}, {"token_delay_ms", 10}}}},
                 {"title", "Slow title"},
                 {"title_delay_ms", 1500}};
  auto r = send(token, chat, "fake-openai", script_message(script));
  ASSERT_EQ(r.status, 200);
  auto first_text = r.time_to("0:\"");
  auto title = r.time_to("chat-title");
  EXPECT_LT(first_text.count(), 1000) << "the first text waited for the title";
  EXPECT_GE(title.count(), 1400);
  // Announced (and stored) before the reply ends.
  EXPECT_LT(r.body.find("chat-title"), r.body.find("d:{")) << r.body;
  EXPECT_EQ(json::parse(call("GET", "/api/v2/chats/" + chat, token).body)["title"], "Slow title");
}

// The error part is the stream's last, even when the title is not there yet: the title is
// stored (the fallback) but not announced after it.
TEST_F(Stream, AnErrorPartStaysLastWhileTheTitleIsStillComing) {
  auto token = stack_->new_user_token(unique("error-title"));
  for (const auto& model : kModels) {
    SCOPED_TRACE(model);
    std::string chat = create_chat(token)["id"];
    json script = {{"steps", {{{"text", "a b c d e f"}, {"token_delay_ms", 10}}}},
                   {"midstream_error_after", 2},
                   {"title", "Too late"},
                   {"title_delay_ms", 3000}};
    auto r = send(token, chat, model, script_message(script));
    ASSERT_EQ(r.status, 200) << r.error;
    auto lines = r.lines();
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back().rfind("3:\"", 0), 0u) << r.body;
    EXPECT_EQ(count_prefix(lines, "2:"), 0u) << r.body;
    std::string title = json::parse(call("GET", "/api/v2/chats/" + chat, token).body)["title"];
    EXPECT_FALSE(title.empty());
    EXPECT_NE(title, "Too late");
  }
}

// A Retry-After beyond the longest wait (here one that overflowed the conversion to
// milliseconds and became an immediate retry) ends the reply with the provider's error.
TEST_F(Stream, AHugeRetryAfterIsNotRetried) {
  auto token = stack_->new_user_token(unique("huge-retry"));
  std::string chat = create_chat(token)["id"];
  json script = {{"steps", {{{"text", "never sent"}}}},
                 {"fail", {{"status", 429}, {"times", 1}, {"retry_after", "1e300"}}}};
  auto r = send(token, chat, "fake-openai", script_message(script));
  ASSERT_EQ(r.status, 200) << r.error;
  auto lines = r.lines();
  EXPECT_EQ(count_prefix(lines, "3:"), 1u) << r.body;
  EXPECT_EQ(count_prefix(lines, "d:"), 0u) << r.body;
  EXPECT_EQ(r.body.find("never sent"), std::string::npos) << r.body;
}

TEST_F(Stream, FailuresEndInOneErrorPartAndTheChatStaysUsable) {
  auto token = stack_->new_user_token(unique("fail"));
  struct Case {
    std::string name;
    std::string model;
    json script;
    bool partial;  // some text arrived before the failure
  };
  std::vector<Case> cases = {
      {"bad key", "fake-badkey", {{"steps", {{{"text", "never"}}}}}, false},
      {"server error every time",
       "fake-anthropic",
       {{"steps", {{{"text", "never"}}}}, {"fail", {{"status", 500}, {"times", 10}}}},
       false},
      {"mid-stream error",
       "fake-openai",
       {{"steps", {{{"text", "a b c d e f"}}}}, {"midstream_error_after", 3}},
       true},
      {"mid-stream error",
       "fake-anthropic",
       {{"steps", {{{"text", "a b c d e f"}}}}, {"midstream_error_after", 3}},
       true},
      {"mid-stream error",
       "fake-google",
       {{"steps", {{{"text", "a b c d e f"}}}}, {"midstream_error_after", 3}},
       true},
      {"stall", "fake-google", {{"steps", {{{"text", "a b c d e f"}}}}, {"stall_after", 2}}, true},
      {"cut connection",
       "fake-openai",
       {{"steps", {{{"text", "a b c d e f"}}}}, {"cut_after", 2}},
       true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name + " / " + c.model);
    std::string chat = create_chat(token)["id"];
    auto r = send(token, chat, c.model, script_message(c.script));
    ASSERT_EQ(r.status, 200) << r.error;
    auto lines = r.lines();
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(count_prefix(lines, "3:"), 1u) << r.body;
    EXPECT_EQ(lines.back().rfind("3:\"", 0), 0u) << r.body;
    EXPECT_EQ(count_prefix(lines, "d:"), 0u) << r.body;
    EXPECT_EQ(r.body.find("test-key"), std::string::npos) << "the API key leaked";
    auto rebuilt = json::parse(rebuild_with_ai_sdk(r.body));
    EXPECT_FALSE(rebuilt["error"].is_null()) << "the client saw no error";
    auto stored = messages(token, chat);
    if (c.partial) {
      ASSERT_EQ(stored.size(), 2u) << "the partial reply was not stored";
      expect_stored_as_rebuilt(r, stored[1]);
      EXPECT_FALSE(stored[1]["content"].get<std::string>().empty());
      auto reason = stack_->sql("SELECT finish_reason FROM chat_messages WHERE chat_id = '" + chat +
                                "' AND content->>'role' = 'assistant'");
      EXPECT_EQ(reason.at(0).at(0), "error");
    } else {
      ASSERT_EQ(stored.size(), 1u) << "only the user message";
    }
    // The chat is usable afterwards.
    auto next = send(token, chat, "fake-openai", script_message({{"steps", {{{"text", "ok"}}}}}));
    EXPECT_EQ(count_prefix(next.lines(), "d:"), 1u) << next.body;
  }
}

TEST_F(Stream, RateLimitIsRetriedBeforeAnythingWasSent) {
  auto token = stack_->new_user_token(unique("retry"));
  for (const auto& model : kModels) {
    SCOPED_TRACE(model);
    std::string chat = create_chat(token)["id"];
    json script = {{"steps", {{{"text", "after the retry " + model}}}},
                   {"fail", {{"status", 429}, {"times", 1}, {"retry_after", "1"}}}};
    auto r = send(token, chat, model, script_message(script));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(count_prefix(r.lines(), "3:"), 0u) << r.body;
    EXPECT_EQ(messages(token, chat)[1]["content"], "after the retry " + model);
  }
}

TEST_F(Stream, ValidationAndStatusOrder) {
  auto owner = stack_->new_user_token(unique("owner"));
  auto other = stack_->new_user_token(unique("other"));
  auto admin = stack_->new_user_token(unique("admin"), true);
  std::string chat = create_chat(owner)["id"];
  auto post = [&](const std::string& token, const std::string& body, const std::string& id = "") {
    return call("POST", "/api/v2/chats/" + (id.empty() ? chat : id) + "/messages", token, body);
  };
  json good = {{"model", "fake-openai"}, {"message", {{"role", "user"}, {"content", "hi"}}}};
  auto expect_decode_error = [&](const std::string& body, const std::string& detail) {
    auto r = post(owner, body);
    EXPECT_EQ(r.status, 400) << body;
    auto error = json::parse(r.body);
    EXPECT_EQ(error["message"], "Failed to decode chat message") << body;
    EXPECT_NE(error.value("detail", "").find(detail), std::string::npos)
        << body << " -> " << r.body;
  };
  expect_decode_error("{not json", "invalid JSON");
  expect_decode_error("[]", "must be a JSON object");
  expect_decode_error(R"({"message":{"role":"user","content":"x"}})", "\"model\" is required");
  expect_decode_error(R"({"model":7,"message":{"role":"user","content":"x"}})",
                      "\"model\" must be a string");
  expect_decode_error(R"({"model":"","message":{"role":"user","content":"x"}})",
                      "\"model\" must not be empty");
  expect_decode_error(R"({"model":"fake-openai"})", "\"message\" is required");
  expect_decode_error(R"({"model":"fake-openai","message":{"role":"assistant","content":"x"}})",
                      "\"message.role\" must be \"user\"");
  expect_decode_error(R"({"model":"fake-openai","message":{"role":"user","content":5}})",
                      "\"message.content\" must be a string");
  expect_decode_error(
      R"({"model":"fake-openai","message":{"role":"user","content":"x"},"thinking":"yes"})",
      "\"thinking\" must be a boolean");
  expect_decode_error(R"({"model":"fake-openai","message":{"role":"user"}})", "empty");
  // Nothing a model could be sent: blank text, no text part, an empty attachment list.
  expect_decode_error(R"({"model":"fake-openai","message":{"role":"user","content":" \n "}})",
                      "empty");
  expect_decode_error(
      R"({"model":"fake-openai","message":{"role":"user","parts":[{"type":"step-start"}]}})",
      "empty");
  expect_decode_error(
      R"({"model":"fake-openai","message":{"role":"user","experimental_attachments":[]}})",
      "empty");

  auto unknown =
      post(owner, R"({"model":"no-such-model","message":{"role":"user","content":"x"}})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body, R"({"message":"Model not found"})");
  // Order: 401, 400 bad id, 404 (others and admins too), then the body.
  EXPECT_EQ(post("", "{bad").status, 401);
  EXPECT_EQ(post(owner, "{bad", "not-a-uuid").status, 400);
  EXPECT_EQ(post(other, "{bad").status, 404);
  EXPECT_EQ(post(admin, good.dump()).status, 404);
  // Nothing was stored by any of these.
  EXPECT_EQ(messages(owner, chat).size(), 0u);
}

TEST_F(Stream, OneReplyPerChatAtATime) {
  auto token = stack_->new_user_token(unique("busy"));
  std::string chat = create_chat(token)["id"];
  json slow = {{"steps", {{{"text", "a b c d e f g h"}, {"token_delay_ms", 150}}}}};
  StreamedResponse first;
  std::thread runner([&] { first = send(token, chat, "fake-openai", script_message(slow)); });
  ASSERT_TRUE(wait_until(
      [&] {
        return stack_->sql(
                   "SELECT count(*) FROM chat_replies WHERE finished_at IS NULL AND chat_id = '" +
                   chat + "'")[0][0] == "1";
      },
      5s));
  auto second =
      call("POST", "/api/v2/chats/" + chat + "/messages", token,
           json({{"model", "fake-openai"}, {"message", {{"role", "user"}, {"content", "again"}}}})
               .dump());
  EXPECT_EQ(second.status, 409);
  EXPECT_EQ(second.body, R"({"message":"A reply is already being generated for this chat."})");
  runner.join();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(
      stack_->sql("SELECT count(*) FROM chat_replies WHERE finished_at IS NULL AND chat_id = '" +
                  chat + "'")[0][0],
      "0");
  EXPECT_EQ(messages(token, chat).size(), 2u) << "the refused message was stored";
}

TEST_F(Stream, ConcurrentRepliesInDifferentChatsDoNotInterfere) {
  auto token = stack_->new_user_token(unique("parallel"));
  const int n = 6;
  std::vector<std::string> chats;
  for (int i = 0; i < n; ++i) chats.push_back(create_chat(token)["id"]);
  std::vector<StreamedResponse> responses(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      std::string text = "reply number " + std::to_string(i) + " for its own chat";
      responses[i] = send(token, chats[i], kModels[i % 3],
                          script_message({{"steps", {{{"text", text}, {"token_delay_ms", 30}}}}}));
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) {
    auto stored = messages(token, chats[i]);
    ASSERT_EQ(stored.size(), 2u);
    EXPECT_EQ(stored[1]["content"], "reply number " + std::to_string(i) + " for its own chat");
    expect_stored_as_rebuilt(responses[i], stored[1]);
  }
}

TEST_F(Stream, SilenceIsFilledWithEmptyLines) {
  // This stack writes a keep-alive after 1 s of silence (15 s by default).
  auto token = stack_->new_user_token(unique("keepalive"));
  std::string chat = create_chat(token)["id"];
  json script = {{"steps", {{{"text", "slow reply"}, {"token_delay_ms", 2200}}}}};
  auto r = send(token, chat, "fake-anthropic", script_message(script));
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\n\n"), std::string::npos) << r.body;
  auto rebuilt = json::parse(rebuild_with_ai_sdk(r.body));
  EXPECT_TRUE(rebuilt["error"].is_null()) << rebuilt.dump();
  EXPECT_EQ(rebuilt["message"]["content"], "slow reply");
}

TEST_F(Stream, ThinkingStreamsReasoningAndReplaysIt) {
  auto token = stack_->new_user_token(unique("thinking"));
  for (const std::string model : {"fake-anthropic", "fake-google"}) {
    SCOPED_TRACE(model);
    std::string chat = create_chat(token)["id"];
    json script = {{"steps",
                    {{{"reasoning", "Let me think about it"},
                      {"text", "Calling."},
                      {"tool_calls", {{{"name", "lookup"}, {"args", {{"q", 1}}}}}}},
                     {{"reasoning", "Now I know"}, {"text", "Answer."}}}}};
    auto r = post(token, chat,
                  {{"model", model}, {"message", script_message(script)}, {"thinking", true}});
    ASSERT_EQ(r.status, 200);
    auto lines = r.lines();
    EXPECT_GE(count_prefix(lines, "g:"), 2u) << r.body;
    if (model == "fake-anthropic") {
      EXPECT_GE(count_prefix(lines, "j:"), 1u) << r.body;
    }
    EXPECT_EQ(count_prefix(lines, "3:"), 0u) << r.body;
    auto stored = messages(token, chat);
    ASSERT_EQ(stored.size(), 2u);
    expect_stored_as_rebuilt(r, stored[1]);
    EXPECT_EQ(stored[1]["reasoning"], "Let me think about itNow I know");
    // The next turn sends the reasoning (with its signature) back; the fake checks the shape.
    auto again = post(token, chat,
                      {{"model", model},
                       {"message", script_message({{"steps", {{{"text", "Next."}}}}})},
                       {"thinking", true}});
    EXPECT_EQ(count_prefix(again.lines(), "3:"), 0u) << again.body;
  }
}

TEST_F(Stream, DeploymentModels) {
  auto token = stack_->new_user_token(unique("llms"));
  auto r = call("GET", "/api/v2/deployment/llms", token);
  ASSERT_EQ(r.status, 200);
  // Sorted by provider, then id; the listed ones come from the provider's model list.
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"models":[
              {"id":"fake-anthropic","display_name":"fake-anthropic","provider":"anthropic"},
              {"id":"fake-google","display_name":"fake-google","provider":"google"},
              {"id":"fake-badkey","display_name":"fake-badkey","provider":"openai"},
              {"id":"fake-model","display_name":"fake-model","provider":"openai"},
              {"id":"fake-model-2","display_name":"fake-model-2","provider":"openai"},
              {"id":"fake-openai","display_name":"fake-openai","provider":"openai"}]})"));
  EXPECT_EQ(r.body.find("test-key"), std::string::npos);
  EXPECT_EQ(r.body.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(call("GET", "/api/v2/deployment/llms").status, 401);
}

// default-model (API.md §3): announced when the catalog offers it; an id it does not offer is
// not announced (the page picks its own), and the worker says so in its log.
TEST_F(Stream, DeploymentModelsAnnounceTheOperatorsDefault) {
  auto token = stack_->new_user_token(unique("default"));
  for (std::string id : {"fake-zeta", "fake-nope"}) {
    SCOPED_TRACE(id);
    std::string dir = stack_->dir + "/default-" + id;
    std::filesystem::create_directories(dir);
    Chatd chatd(dir, stack_->postgres->url(),
                {"--workers", "1", "--threads", "2", "--default-model", id, "--provider",
                 "type=openai;api-key=k;base-url=http://127.0.0.1:9/v1;models=fake-alpha,"
                 "fake-zeta"});
    chatd.start();
    Nginx nginx(dir + "/nginx", chatd.socket_path());
    auto r = http("GET", nginx.base_url() + "/api/v2/deployment/llms",
                  {"Coder-Session-Token: " + token});
    ASSERT_EQ(r.status, 200) << r.body;
    json body = json::parse(r.body);
    EXPECT_EQ(body["models"].size(), 2u);
    if (id == "fake-zeta") {
      EXPECT_EQ(body.value("default_model", ""), "fake-zeta") << r.body;
    } else {
      EXPECT_FALSE(body.contains("default_model")) << r.body;
      EXPECT_TRUE(wait_until(
          [&] {
            return read_file(chatd.log_path()).find("default-model is not among") !=
                   std::string::npos;
          },
          5s));
    }
  }
}

}  // namespace
}  // namespace chatd::test
