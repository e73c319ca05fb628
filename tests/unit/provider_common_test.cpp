// What the three provider types share: the factory, reading the UIMessage history, and the
// helpers for errors and tool arguments.
#include "llm/provider_common.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "llm/conversation.hpp"
#include "llm/openai.hpp"
#include "llm/provider.hpp"
#include "tests/unit/provider_test_support.hpp"

namespace chatd::llm {
namespace {

using json = nlohmann::json;
using testing::provider_of;

TEST(ProviderFactory, MakesEachType) {
  EXPECT_EQ(provider_of("openai")->type(), "openai");
  EXPECT_EQ(provider_of("anthropic")->type(), "anthropic");
  EXPECT_EQ(provider_of("google")->type(), "google");
}

TEST(ProviderFactory, UnknownTypeIsNamed) {
  try {
    provider_of("azure");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "unknown provider type \"azure\" (expected openai, anthropic or google)");
  }
  EXPECT_THROW(provider_of(""), std::invalid_argument);
}

TEST(ProviderFactory, BaseUrlsLoseTrailingSlashes) {
  ModelRequest request;
  request.model = "m";
  EXPECT_EQ(provider_of("openai", "https://x.test/v1//")->stream_call(request).url,
            "https://x.test/v1/chat/completions");
  EXPECT_EQ(provider_of("anthropic", "https://x.test/")->list_models_call().url,
            "https://x.test/v1/models?limit=1000");
  EXPECT_EQ(provider_of("google", "https://x.test/")->list_models_call().url,
            "https://x.test/v1beta/models?pageSize=1000");
}

TEST(ProviderFactory, TheKeyIsNeverInAnErrorMessage) {
  const std::string key = "sk-ant-api03-SECRET";
  for (const char* type : {"openai", "anthropic", "google"}) {
    auto provider = provider_of(type, "", key);
    ProviderError error = provider->parse_error(
        401, R"({"error":{"message":"bad key sk-ant-api03-SECRET and again sk-ant-api03-SECRET"}})",
        "");
    EXPECT_EQ(error.message.find(key), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("bad key [redacted] and again [redacted]"), std::string::npos)
        << error.message;
    std::vector<SseEvent> in = {{"error", R"({"error":{"message":"oops sk-ant-api03-SECRET"}})"}};
    auto mapper = provider->new_stream_mapper();
    std::vector<ModelEvent> out;
    mapper->on_event(in[0], out);
    ASSERT_EQ(out.size(), 1u) << type;
    ASSERT_TRUE(std::holds_alternative<StreamError>(out[0])) << type;
    EXPECT_EQ(std::get<StreamError>(out[0]).message.find(key), std::string::npos);
  }
}

TEST(ProviderFactory, LongMessagesAreCut) {
  auto provider = provider_of("openai");
  std::string long_message(291, 'a');
  long_message += "ééééééééééééééé";  // 2 bytes each: the cut at 300 falls inside one
  ProviderError error =
      provider->parse_error(400, json{{"error", {{"message", long_message}}}}.dump(), "");
  EXPECT_EQ(error.message, "OpenAI error 400: " + std::string(291, 'a') + "éééé…");
  EXPECT_EQ(provider->parse_error(418, "", "").message, "OpenAI error 418: HTTP error");
}

TEST(ProviderHelpers, ParseSeconds) {
  using detail::parse_seconds;
  EXPECT_EQ(parse_seconds("12"), 12.0);
  EXPECT_EQ(parse_seconds(" 1.5 "), 1.5);
  EXPECT_EQ(parse_seconds("34.4s"), 34.4);
  EXPECT_EQ(parse_seconds("0"), 0.0);
  EXPECT_FALSE(parse_seconds(""));
  EXPECT_FALSE(parse_seconds("soon"));
  EXPECT_FALSE(parse_seconds("-3"));
  EXPECT_FALSE(parse_seconds("Wed, 21 Oct 2015 07:28:00 GMT"));
}

TEST(ProviderHelpers, ParseToolArgs) {
  using detail::parse_tool_args;
  EXPECT_EQ(parse_tool_args(""), json::object());
  EXPECT_EQ(parse_tool_args(" \n"), json::object());
  EXPECT_EQ(parse_tool_args(R"( {"a": [1, {"b": null}]} )"),
            json::parse(R"({"a":[1,{"b":null}]})"));
  EXPECT_FALSE(parse_tool_args("[1]"));
  EXPECT_FALSE(parse_tool_args("\"x\""));
  EXPECT_FALSE(parse_tool_args("{\"a\":"));
}

TEST(ProviderHelpers, SafeText) {
  using detail::safe_text;
  EXPECT_EQ(safe_text("line one\nline two\t!", ""), "line one line two !");
  EXPECT_EQ(safe_text("key abc in text", "abc"), "key abc in text");  // too short to be a key
  EXPECT_EQ(safe_text("key abcd in text", "abcd"), "key [redacted] in text");
}

ModelRequest with_messages(const char* messages) {
  ModelRequest request;
  request.model = "m";
  request.messages = json::parse(messages);
  return request;
}

TEST(ProviderConversation, UserPartsWinOverContent) {
  auto conversation = detail::read_conversation(with_messages(R"([
    {"role": "user", "content": "from content", "parts": [{"type": "text", "text": "from parts"}]},
    {"role": "user", "content": "only content"},
    {"role": "user", "content": "empty parts", "parts": []},
    {"role": "user", "content": "   "}
  ])"));
  ASSERT_EQ(conversation.turns.size(), 3u);
  EXPECT_EQ(conversation.turns[0].user[0].text, "from parts");
  EXPECT_EQ(conversation.turns[1].user[0].text, "only content");
  EXPECT_EQ(conversation.turns[2].user[0].text, "empty parts");
}

TEST(ProviderConversation, SystemPromptCollectsSystemMessages) {
  ModelRequest request = with_messages(R"([
    {"role": "system", "content": "Second."},
    {"role": "user", "content": "Hi"},
    {"role": "system", "content": "ignored", "parts": [{"type": "text", "text": "Third."}]},
    {"role": "data", "content": "x"},
    {"role": "tool", "content": "x"},
    "not an object"
  ])");
  request.system_prompt = "First.";
  auto conversation = detail::read_conversation(request);
  EXPECT_EQ(conversation.system, "First.\n\nSecond.\n\nThird.");
  EXPECT_EQ(conversation.turns.size(), 1u);
}

TEST(ProviderConversation, AssistantStepsAndTheDeprecatedMirror) {
  auto conversation = detail::read_conversation(with_messages(R"json([
    {"role": "assistant", "parts": [
      {"type": "text", "text": "before any step-start "},
      {"type": "source", "source": {"sourceType": "url", "id": "s", "url": "https://x.test"}},
      {"type": "step-start"},
      {"type": "file", "mimeType": "image/png", "data": "iVBO"},
      {"type": "step-start"},
      {"type": "tool-invocation", "toolInvocation": {"state": "result", "toolCallId": "c1",
        "toolName": "t", "args": "not an object", "result": false}}]},
    {"role": "assistant", "content": "Old style",
     "toolInvocations": [{"state": "result", "toolCallId": "c2", "toolName": "u", "args": {"a": 1},
                          "result": 0}]}
  ])json"));
  ASSERT_EQ(conversation.turns.size(), 3u);
  EXPECT_EQ(conversation.turns[0].step.text, "before any step-start ");
  ASSERT_EQ(conversation.turns[1].step.calls.size(), 1u);
  EXPECT_EQ(conversation.turns[1].step.calls[0].args, json::object());
  EXPECT_EQ(conversation.turns[1].step.calls[0].result, false);
  EXPECT_EQ(conversation.turns[2].step.text, "Old style");
  EXPECT_EQ(conversation.turns[2].step.calls[0].result, 0);
}

TEST(ProviderConversation, Files) {
  auto conversation = detail::read_conversation(with_messages(R"json([
    {"role": "user", "parts": [
      {"type": "file", "mimeType": "Image/PNG", "data": "iVBO"},
      {"type": "file", "mediaType": "image/jpeg", "url": "https://x.test/a.jpg", "filename": "a.jpg"}],
     "experimental_attachments": [
       {"name": "t.txt", "contentType": "text/plain;charset=utf-8", "url": "data:text/plain;charset=utf-8,hi%21"},
       {"name": "p.png", "url": "data:image/png;base64,iV BO\n"},
       {"name": "bad", "contentType": "image/png", "url": "data:image/png;base64"},
       "junk"]}
  ])json"));
  ASSERT_EQ(conversation.turns.size(), 1u);
  const auto& items = conversation.turns[0].user;
  ASSERT_EQ(items.size(), 5u);
  ASSERT_TRUE(items[0].file);
  EXPECT_EQ(items[0].file->media_type, "image/png");
  EXPECT_EQ(items[0].file->base64, "iVBO");
  ASSERT_TRUE(items[1].file);
  EXPECT_EQ(items[1].file->url, "https://x.test/a.jpg");
  EXPECT_EQ(items[1].file->name, "a.jpg");
  ASSERT_TRUE(items[2].file);
  EXPECT_EQ(items[2].file->media_type, "text/plain");
  EXPECT_EQ(items[2].file->base64, "aGkh");  // "hi!"
  ASSERT_TRUE(items[3].file);
  EXPECT_EQ(items[3].file->media_type, "image/png");
  EXPECT_EQ(items[3].file->base64, "iVBO");
  EXPECT_FALSE(items[4].file);
  EXPECT_EQ(items[4].text, "[attachment bad (image/png) omitted]");
}

}  // namespace
}  // namespace chatd::llm
