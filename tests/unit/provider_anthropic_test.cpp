// Anthropic Messages: request JSON, stream mapping, errors, model list.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "llm/provider.hpp"
#include "tests/unit/provider_test_support.hpp"

namespace chatd::llm {
namespace {

using json = nlohmann::json;
using testing::body_of;
using testing::finish_usage;
using testing::golden_request;
using testing::Lines;
using testing::provider_of;
using testing::read_transcript;
using testing::run_events;
using testing::run_stream;

// One SSE event as Anthropic frames it.
std::string event(const std::string& name, const std::string& data) {
  return "event: " + name + "\ndata: " + data + "\n\n";
}

TEST(AnthropicRequest, GoldenHistoryWithToolsAndThinking) {
  auto provider = provider_of("anthropic");
  HttpCall call = provider->stream_call(golden_request("claude-sonnet-4-5"));
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(call.headers, (std::vector<std::string>{
                              "x-api-key: sk-test-key-123456", "anthropic-version: 2023-06-01",
                              "Content-Type: application/json", "Accept: text/event-stream"}));
  json expected = json::parse(R"json({
    "model": "claude-sonnet-4-5",
    "max_tokens": 4096,
    "stream": true,
    "system": [{"type": "text", "text": "You are terse."}],
    "thinking": {"type": "enabled", "budget_tokens": 2048},
    "messages": [
      {"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]},
      {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "Two cities: call both.", "signature": "sig-1"},
        {"type": "text", "text": "A cat. Let me check the weather."},
        {"type": "tool_use", "id": "call_A", "name": "weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_B", "name": "weather", "input": {"city": "Oslo"}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "call_A",
         "content": [{"type": "text", "text": "{\"tempC\":18}"}]},
        {"type": "tool_result", "tool_use_id": "call_B", "is_error": true,
         "content": [{"type": "text", "text": "{\"error\":\"timeout\"}"}]}]},
      {"role": "assistant", "content": [{"type": "text", "text": "Paris is 18°C; Oslo did not answer."}]},
      {"role": "user", "content": [{"type": "text", "text": "And Rome?"}]}
    ],
    "tools": [
      {"name": "weather", "description": "Current weather in a city",
       "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
      {"name": "search", "description": "Search the notes",
       "input_schema": {
          "$schema": "http://json-schema.org/draft-07/schema#",
          "type": "object",
          "properties": {
            "query": {"type": "string", "description": "What to look for", "examples": ["cats"]},
            "filters": {
              "type": "object",
              "properties": {
                "since": {"type": ["string", "null"], "format": "date-time"},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["news", "blog"]}},
                "limit": {"type": "integer", "default": 10, "minimum": 1}
              },
              "required": ["since"],
              "additionalProperties": false
            }
          },
          "required": ["query"],
          "additionalProperties": false}}
    ]
  })json");
  EXPECT_EQ(body_of(call), expected) << body_of(call).dump(2);
}

TEST(AnthropicRequest, WithoutThinkingReasoningIsNotSentAndMaxTokensIsTheRequests) {
  auto provider = provider_of("anthropic", "https://proxy.example.com/anthropic/");
  ModelRequest request = golden_request("claude-sonnet-4-5");
  request.thinking = false;
  request.tools.clear();
  request.system_prompt.clear();
  HttpCall call = provider->stream_call(request);
  EXPECT_EQ(call.url, "https://proxy.example.com/anthropic/v1/messages");
  json body = body_of(call);
  EXPECT_EQ(body["max_tokens"], 1000);
  EXPECT_FALSE(body.contains("thinking"));
  EXPECT_FALSE(body.contains("tools"));
  EXPECT_FALSE(body.contains("system"));
  EXPECT_EQ(body["messages"][1]["content"][0],
            json::parse(R"({"type": "text", "text": "A cat. Let me check the weather."})"));
}

// Prompt caching (API.md §9): with the chat's cache key, breakpoints on the system prompt, the
// last tool and the newest message's last block that may carry one — three of the four allowed;
// without a key (a title request), none.
TEST(AnthropicRequest, ACachedPromptMarksSystemToolsAndTheNewestMessage) {
  auto provider = provider_of("anthropic");
  ModelRequest request = golden_request("claude-sonnet-4-5");
  request.cache_key = "chat-1";
  json body = body_of(provider->stream_call(request));
  const json ephemeral = {{"type", "ephemeral"}};
  EXPECT_EQ(body["system"][0]["cache_control"], ephemeral);
  EXPECT_EQ(body["tools"][1]["cache_control"], ephemeral);
  EXPECT_FALSE(body["tools"][0].contains("cache_control"));
  EXPECT_EQ(body["messages"].back()["content"].back(),
            json::parse(R"({"type": "text", "text": "And Rome?",
                            "cache_control": {"type": "ephemeral"}})"));
  size_t marks = 0;
  std::function<void(const json&)> count = [&](const json& j) {
    if (j.is_object() && j.contains("cache_control")) ++marks;
    if (j.is_structured())
      for (const auto& child : j) count(child);
  };
  count(body);
  EXPECT_EQ(marks, 3u);

  // Whatever the newest message is, its last block is marked.
  request.messages.erase(request.messages.end() - 1);
  body = body_of(provider->stream_call(request));
  EXPECT_EQ(body["messages"].back()["role"], "assistant");
  EXPECT_EQ(body["messages"].back()["content"].back()["cache_control"], ephemeral);

  request.cache_key.clear();
  body = body_of(provider->stream_call(request));
  EXPECT_EQ(body.dump().find("cache_control"), std::string::npos);
}

TEST(AnthropicRequest, ConsecutiveSameRoleMessagesAreMerged) {
  auto provider = provider_of("anthropic");
  ModelRequest request;
  request.model = "claude";
  request.thinking = true;
  request.messages = json::parse(R"json([
    {"role": "system", "parts": [{"type": "text", "text": "From history."}]},
    {"role": "user", "content": "First"},
    {"role": "user", "content": "Second"},
    {"role": "assistant", "content": "One"},
    {"role": "assistant", "parts": [
      {"type": "step-start"},
      {"type": "reasoning", "reasoning": "unsigned", "details": [{"type": "text", "text": "unsigned"}]},
      {"type": "reasoning", "reasoning": "", "details": [{"type": "redacted", "data": "REDACTED"}]},
      {"type": "tool-invocation", "toolInvocation": {"state": "result", "toolCallId": "call.1",
        "toolName": "t", "args": {}, "result": null}},
      {"type": "tool-invocation", "toolInvocation": {"state": "call", "toolCallId": "call_2",
        "toolName": "t", "args": {}}}]},
    {"role": "user", "parts": [{"type": "text", "text": "Next"}]}
  ])json");
  json body = body_of(provider->stream_call(request));
  EXPECT_EQ(body["system"], json::parse(R"([{"type": "text", "text": "From history."}])"));
  EXPECT_EQ(body["messages"], json::parse(R"json([
    {"role": "user", "content": [{"type": "text", "text": "First"}, {"type": "text", "text": "Second"}]},
    {"role": "assistant", "content": [
      {"type": "redacted_thinking", "data": "REDACTED"},
      {"type": "text", "text": "One"},
      {"type": "tool_use", "id": "call_1", "name": "t", "input": {}}]},
    {"role": "user", "content": [
      {"type": "tool_result", "tool_use_id": "call_1", "content": [{"type": "text", "text": "null"}]},
      {"type": "text", "text": "Next"}]}])json"))
      << body["messages"].dump(2);
}

TEST(AnthropicRequest, AttachmentsByType) {
  auto provider = provider_of("anthropic");
  ModelRequest request;
  request.model = "claude";
  request.messages = json::parse(R"json([{"role": "user", "content": "See",
    "experimental_attachments": [
      {"name": "a.jpg", "url": "https://example.com/a.jpg?x=1"},
      {"name": "doc.pdf", "contentType": "application/pdf", "url": "data:application/pdf;base64,JVBERi0x"},
      {"name": "r.pdf", "contentType": "application/pdf", "url": "https://example.com/r.pdf"},
      {"name": "data.csv", "contentType": "text/csv", "url": "data:text/csv;base64,YSxi"},
      {"name": "odd", "url": "ftp://example.com/x"}]}])json");
  json body = body_of(provider->stream_call(request));
  EXPECT_EQ(body["messages"], json::parse(R"json([{"role": "user", "content": [
    {"type": "text", "text": "See"},
    {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg?x=1"}},
    {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"}},
    {"type": "document", "source": {"type": "url", "url": "https://example.com/r.pdf"}},
    {"type": "text", "text": "[attachment data.csv (text/csv) omitted]"},
    {"type": "text", "text": "[attachment odd (unknown type) omitted]"}]}])json"))
      << body["messages"].dump(2);
}

TEST(AnthropicStream, TextTranscript) {
  auto provider = provider_of("anthropic");
  Lines expected = {R"(text "Hello")", R"(text "!")", "finish stop 25/15"};
  std::string body = read_transcript("anthropic-text.sse");
  EXPECT_EQ(run_stream(*provider, body), expected);
  EXPECT_EQ(run_stream(*provider, body, 1), expected);
  EXPECT_EQ(run_stream(*provider, body, 7), expected);
}

TEST(AnthropicStream, ToolTranscript) {
  auto provider = provider_of("anthropic");
  Lines expected;
  for (const char* piece : {"Okay", ",", " let", "'s", " check", " the", " weather", " for", " San",
                            " Francisco", ",", " CA", ":"})
    expected.push_back("text " + json(piece).dump());
  const std::string id = "toolu_01T1x1fJ34qAmk2tNTrN7Up6";
  expected.push_back("start " + id + " get_weather");
  for (const char* piece : {"{\"location\":", " \"San", " Francisc", "o,", " CA\"", ", ",
                            "\"unit\": \"fah", "renheit\"}"})
    expected.push_back("delta " + id + " " + json(piece).dump());
  expected.push_back("done " + id +
                     R"( get_weather {"location":"San Francisco, CA","unit":"fahrenheit"})");
  expected.push_back("finish tool-calls 472/89");
  std::string body = read_transcript("anthropic-tool.sse");
  EXPECT_EQ(run_stream(*provider, body), expected);
  EXPECT_EQ(run_stream(*provider, body, 1), expected);
  EXPECT_EQ(run_stream(*provider, body, 7), expected);
}

TEST(AnthropicStream, ThinkingSignatureAndRedacted) {
  auto provider = provider_of("anthropic");
  std::string body =
      event(
          "message_start",
          R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":50,"output_tokens":3}}})") +
      event(
          "content_block_start",
          R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}})") +
      event(
          "content_block_delta",
          R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me think"}})") +
      event("ping", R"({"type": "ping"})") +
      event(
          "content_block_delta",
          R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" more."}})") +
      event(
          "content_block_delta",
          R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCg=="}})") +
      event("content_block_stop", R"({"type":"content_block_stop","index":0})") +
      event(
          "content_block_start",
          R"({"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"EmwKAhgB"}})") +
      event("content_block_stop", R"({"type":"content_block_stop","index":1})") +
      event(
          "content_block_start",
          R"({"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}})") +
      event(
          "content_block_delta",
          R"({"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"Answer."}})") +
      event(
          "content_block_delta",
          R"({"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{}}})") +
      event("content_block_stop", R"({"type":"content_block_stop","index":2})") +
      event(
          "message_delta",
          R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":120}})") +
      event("message_stop", R"({"type":"message_stop"})");
  Lines expected = {R"(reasoning "Let me think")", R"(reasoning " more.")",
                    R"(signature "EqQBCg==")",     R"(redacted "EmwKAhgB")",
                    R"(text "Answer.")",           "finish stop 50/120"};
  EXPECT_EQ(run_stream(*provider, body), expected);
  EXPECT_EQ(run_stream(*provider, body, 3), expected);
}

TEST(AnthropicStream, PaddedJsonWithoutTrailingBlankLineAndEmptyArguments) {
  auto provider = provider_of("anthropic");
  std::string body =
      event(
          "message_start",
          R"({"type":"message_start","message":{"id":"msg_2","usage":{"input_tokens":9,"output_tokens":1}}  })") +
      event(
          "content_block_start",
          R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"now","input":{}}   })") +
      event(
          "content_block_delta",
          R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":""}})") +
      event("content_block_stop", R"({"type":"content_block_stop","index":0  })") +
      event(
          "message_delta",
          R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":4}})") +
      "event: message_stop\ndata: {\"type\":\"message_stop\"   }";
  EXPECT_EQ(run_stream(*provider, body),
            (Lines{"start toolu_1 now", "done toolu_1 now {}", "finish tool-calls 9/4"}));
}

// Anthropic reports cache reads and writes beside input_tokens, which counts neither; the
// thinking is in output_tokens.
TEST(AnthropicStream, CacheTokensAsTheLedgerReadsThem) {
  auto provider = provider_of("anthropic");
  EXPECT_EQ(
      finish_usage(*provider,
                   {{"message_start",
                     R"({"type":"message_start","message":{"id":"m","usage":{"input_tokens":21,
                               "cache_creation_input_tokens":188,"cache_read_input_tokens":2048,
                               "output_tokens":1}}})"},
                    {"message_delta",
                     R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},
                               "usage":{"output_tokens":393}})"},
                    {"message_stop", R"({"type":"message_stop"})"}}),
      "21/2048/188/393/-");
}

TEST(AnthropicStream, ErrorEvent) {
  auto provider = provider_of("anthropic");
  std::string body =
      event(
          "message_start",
          R"({"type":"message_start","message":{"id":"msg_3","usage":{"input_tokens":1,"output_tokens":1}}})") +
      event(
          "content_block_start",
          R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})") +
      event(
          "content_block_delta",
          R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})") +
      event(
          "error",
          R"({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})") +
      event("message_stop", R"({"type":"message_stop"})");
  EXPECT_EQ(run_stream(*provider, body),
            (Lines{R"(text "Hi")", R"(error "Anthropic error: Overloaded")"}));
}

TEST(AnthropicStream, CutStreams) {
  auto provider = provider_of("anthropic");
  EXPECT_EQ(
      run_events(
          *provider,
          {{"message_start", R"({"type":"message_start","message":{"id":"m"}})"},
           {"content_block_start",
            R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
           {"content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}})"},
           {"message_delta",
            R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}})"}}),
      (Lines{R"(text "Hi")", R"(error "Anthropic stream ended unexpectedly")"}));
  EXPECT_EQ(
      run_events(
          *provider,
          {{"content_block_start",
            R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}})"},
           {"content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\""}})"}}),
      (Lines{"start t1 f", R"(delta t1 "{\"a\"")",
             R"(error "Anthropic stream ended unexpectedly")"}));
  EXPECT_EQ(run_events(*provider, {}), (Lines{R"(error "Anthropic stream ended unexpectedly")"}));
}

TEST(AnthropicStream, InvalidArguments) {
  auto provider = provider_of("anthropic");
  EXPECT_EQ(
      run_events(
          *provider,
          {{"content_block_start",
            R"({"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"t1","name":"f","input":{}}})"},
           {"content_block_delta",
            R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"[1,"}})"},
           {"content_block_stop", R"({"type":"content_block_stop","index":3})"},
           {"message_stop", R"({"type":"message_stop"})"}}),
      (Lines{"start t1 f", R"(delta t1 "[1,")",
             R"(error "the model sent invalid tool arguments")"}));
}

TEST(AnthropicStream, FinishReasons) {
  auto provider = provider_of("anthropic");
  auto finish = [&](const std::string& reason) {
    return run_events(*provider,
                      {{"message_delta",
                        R"({"type":"message_delta","delta":{"stop_reason":")" + reason + R"("}})"},
                       {"message_stop", R"({"type":"message_stop"})"}})
        .back();
  };
  EXPECT_EQ(finish("end_turn"), "finish stop -/-");
  EXPECT_EQ(finish("stop_sequence"), "finish stop -/-");
  EXPECT_EQ(finish("max_tokens"), "finish length -/-");
  EXPECT_EQ(finish("tool_use"), "finish tool-calls -/-");
  EXPECT_EQ(finish("refusal"), "finish content-filter -/-");
  EXPECT_EQ(finish("pause_turn"), "finish other -/-");
  EXPECT_EQ(finish("something_new"), "finish unknown -/-");
}

TEST(AnthropicStream, UnknownEventsAndBlocksAreIgnored) {
  auto provider = provider_of("anthropic");
  EXPECT_EQ(
      run_events(
          *provider,
          {{"ping", R"({"type":"ping"})"},
           {"future_event", R"({"type":"future_event","x":1})"},
           {"content_block_start",
            R"({"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"s","name":"web_search"}})"},
           {"content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{}"}})"},
           {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
           {"message_stop", R"({"type":"message_stop"})"},
           {"content_block_start",
            R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":"late"}})"}}),
      (Lines{"finish unknown -/-"}));
}

TEST(AnthropicError, Unauthorized) {
  auto provider = provider_of("anthropic");
  ProviderError error = provider->parse_error(
      401,
      R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_011"})",
      "");
  EXPECT_EQ(error.message, "Anthropic error 401: invalid x-api-key");
  EXPECT_FALSE(error.retryable);
}

TEST(AnthropicError, RateLimitHonoursRetryAfter) {
  auto provider = provider_of("anthropic");
  ProviderError error = provider->parse_error(
      429,
      R"({"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization of 50,000 input tokens per minute."}})",
      "20");
  EXPECT_EQ(error.message,
            "Anthropic error 429: This request would exceed the rate limit for your organization "
            "of 50,000 input tokens per minute.");
  EXPECT_TRUE(error.retryable);
  ASSERT_TRUE(error.retry_after_seconds);
  EXPECT_DOUBLE_EQ(*error.retry_after_seconds, 20);
}

TEST(AnthropicError, ServerAndOverloaded) {
  auto provider = provider_of("anthropic");
  ProviderError error = provider->parse_error(
      500, R"({"type":"error","error":{"type":"api_error","message":"Internal server error"}})",
      "");
  EXPECT_EQ(error.message, "Anthropic error 500: Internal server error");
  EXPECT_TRUE(error.retryable);
  error = provider->parse_error(
      529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})", "");
  EXPECT_EQ(error.message, "Anthropic error 529: Overloaded");
  EXPECT_TRUE(error.retryable);
  // An HTTP date is not a number of seconds.
  EXPECT_FALSE(provider->parse_error(529, "", "Wed, 21 Oct 2015 07:28:00 GMT").retry_after_seconds);
  EXPECT_EQ(provider->parse_error(529, "", "").message, "Anthropic error 529: Overloaded");
}

TEST(AnthropicError, QuotaIsNotRetryable) {
  auto provider = provider_of("anthropic");
  ProviderError error = provider->parse_error(
      429,
      R"({"type":"error","error":{"type":"rate_limit_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."}})",
      "");
  EXPECT_FALSE(error.retryable);
}

TEST(AnthropicModels, ListCallAndParse) {
  auto provider = provider_of("anthropic");
  HttpCall call = provider->list_models_call();
  EXPECT_EQ(call.method, "GET");
  EXPECT_EQ(call.url, "https://api.anthropic.com/v1/models?limit=1000");
  EXPECT_EQ(call.headers, (std::vector<std::string>{"x-api-key: sk-test-key-123456",
                                                    "anthropic-version: 2023-06-01",
                                                    "Accept: application/json"}));
  EXPECT_EQ(provider->parse_model_list(R"({"data":[
      {"type":"model","id":"claude-sonnet-4-5-20250929","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"},
      {"type":"model","id":"claude-3-5-haiku-20241022","display_name":"Claude Haiku 3.5"}],
      "has_more":false,"first_id":"claude-sonnet-4-5-20250929","last_id":"claude-3-5-haiku-20241022"})"),
            (std::vector<std::string>{"claude-sonnet-4-5-20250929", "claude-3-5-haiku-20241022"}));
  EXPECT_THROW(provider->parse_model_list(R"({"type":"error"})"), std::runtime_error);
}

}  // namespace
}  // namespace chatd::llm
