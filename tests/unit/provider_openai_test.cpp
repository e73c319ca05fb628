// OpenAI Chat Completions: request JSON, stream mapping, errors, model list.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
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
using testing::run_data;
using testing::run_stream;

TEST(OpenAiRequest, GoldenHistoryWithToolsAndThinking) {
  auto provider = provider_of("openai");
  HttpCall call = provider->stream_call(golden_request("gpt-4o"));
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(call.headers, (std::vector<std::string>{"Authorization: Bearer sk-test-key-123456",
                                                    "Content-Type: application/json",
                                                    "Accept: text/event-stream"}));
  json expected = json::parse(R"json({
    "model": "gpt-4o",
    "stream": true,
    "stream_options": {"include_usage": true},
    "reasoning_effort": "medium",
    "messages": [
      {"role": "system", "content": "You are terse."},
      {"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]},
      {"role": "assistant", "content": "A cat. Let me check the weather.", "tool_calls": [
        {"id": "call_A", "type": "function",
         "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}},
        {"id": "call_B", "type": "function",
         "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
      {"role": "tool", "tool_call_id": "call_A", "content": "{\"tempC\":18}"},
      {"role": "tool", "tool_call_id": "call_B", "content": "{\"error\":\"timeout\"}"},
      {"role": "assistant", "content": "Paris is 18°C; Oslo did not answer."},
      {"role": "user", "content": "And Rome?"}
    ],
    "tools": [
      {"type": "function", "function": {"name": "weather", "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}},
      {"type": "function", "function": {"name": "search", "description": "Search the notes",
        "parameters": {
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
          "additionalProperties": false}}}
    ]
  })json");
  EXPECT_EQ(body_of(call), expected) << body_of(call).dump(2);
}

TEST(OpenAiRequest, NoToolsNoThinkingNoMaxTokens) {
  auto provider = provider_of("openai");
  ModelRequest request;
  request.model = "llama3";
  request.messages = json::parse(R"([{"role": "user", "content": "Hi"}])");
  json body = body_of(provider->stream_call(request));
  EXPECT_EQ(body, json::parse(R"({"model": "llama3", "stream": true,
    "stream_options": {"include_usage": true},
    "messages": [{"role": "user", "content": "Hi"}]})"));
}

// Prompt caching (API.md §9): a chat's requests carry its id as prompt_cache_key.
TEST(OpenAiRequest, TheChatIsThePromptCacheKey) {
  auto provider = provider_of("openai");
  ModelRequest request = golden_request("gpt-4o");
  request.cache_key = "3f1c2b9e-0000-4000-8000-000000000001";
  EXPECT_EQ(body_of(provider->stream_call(request))["prompt_cache_key"], request.cache_key);
  request.cache_key.clear();
  EXPECT_FALSE(body_of(provider->stream_call(request)).contains("prompt_cache_key"));
}

TEST(OpenAiRequest, BaseUrlWithoutKey) {
  auto provider = provider_of("openai", "http://localhost:11434/v1/", "");
  ModelRequest request;
  request.model = "llama3";
  HttpCall call = provider->stream_call(request);
  EXPECT_EQ(call.url, "http://localhost:11434/v1/chat/completions");
  EXPECT_EQ(call.headers, (std::vector<std::string>{"Content-Type: application/json",
                                                    "Accept: text/event-stream"}));
}

TEST(OpenAiRequest, AttachmentsByType) {
  auto provider = provider_of("openai");
  ModelRequest request;
  request.model = "gpt-4o";
  request.messages = json::parse(R"json([{"role": "user", "parts": [
      {"type": "text", "text": "Look"},
      {"type": "file", "mimeType": "image/jpeg", "data": "/9j/4AAQ"}],
    "experimental_attachments": [
      {"name": "a.png", "contentType": "image/png", "url": "https://example.com/a.png"},
      {"name": "doc.pdf", "contentType": "application/pdf", "url": "data:application/pdf;base64,JVBERi0x"},
      {"name": "remote.pdf", "contentType": "application/pdf", "url": "https://example.com/r.pdf"},
      {"name": "notes.txt", "contentType": "text/plain", "url": "data:text/plain;base64,aGk="},
      {"name": "pic.svg", "contentType": "image/svg+xml", "url": "data:image/svg+xml;base64,PHN2Zz4="}]}])json");
  json body = body_of(provider->stream_call(request));
  EXPECT_EQ(body["messages"], json::parse(R"json([{"role": "user", "content": [
      {"type": "text", "text": "Look"},
      {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
      {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
      {"type": "file", "file": {"filename": "doc.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"}},
      {"type": "text", "text": "[attachment remote.pdf (application/pdf) omitted]"},
      {"type": "text", "text": "[attachment notes.txt (text/plain) omitted]"},
      {"type": "text", "text": "[attachment pic.svg (image/svg+xml) omitted]"}]}])json"))
      << body["messages"].dump(2);
}

TEST(OpenAiRequest, UnansweredCallsAreDroppedAndEmptyStepsOmitted) {
  auto provider = provider_of("openai");
  ModelRequest request;
  request.model = "gpt-4o";
  request.messages = json::parse(R"json([
    {"role": "user", "content": "Go"},
    {"role": "assistant", "content": "", "parts": [
      {"type": "step-start"},
      {"type": "tool-invocation", "toolInvocation": {"state": "call", "toolCallId": "c1",
        "toolName": "t", "args": {}}},
      {"type": "step-start"},
      {"type": "text", "text": "  "},
      {"type": "step-start"},
      {"type": "tool-invocation", "toolInvocation": {"state": "result", "toolCallId": "c2",
        "toolName": "t", "args": {"x": 1}, "result": "done"}},
      {"type": "tool-invocation", "toolInvocation": {"state": "partial-call", "toolCallId": "c3",
        "toolName": "t"}}]},
    {"role": "data", "content": "ignored"},
    {"role": "system", "content": "Be nice."}
  ])json");
  json body = body_of(provider->stream_call(request));
  EXPECT_EQ(body["messages"], json::parse(R"json([
    {"role": "system", "content": "Be nice."},
    {"role": "user", "content": "Go"},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "c2", "type": "function",
      "function": {"name": "t", "arguments": "{\"x\":1}"}}]},
    {"role": "tool", "tool_call_id": "c2", "content": "\"done\""}])json"))
      << body["messages"].dump(2);
}

TEST(OpenAiStream, TextTranscript) {
  auto provider = provider_of("openai");
  Lines expected;
  for (const char* piece :
       {"I'm",      " unable",    " to",       " provide", " real",      "-time",
        " weather", " updates",   ".",         " To",      " get",       " the",
        " current", " weather",   " in",       " San",     " Francisco", ",",
        " I",       " recommend", " checking", " a",       " reliable",  " weather",
        " website", " or",        " a",        " weather", " app",       "."})
    expected.push_back("text " + json(piece).dump());
  expected.push_back("finish stop 14/30");
  std::string body = read_transcript("openai-text.sse");
  EXPECT_EQ(run_stream(*provider, body), expected);
  EXPECT_EQ(run_stream(*provider, body, 1), expected);
  EXPECT_EQ(run_stream(*provider, body, 7), expected);
}

TEST(OpenAiStream, ToolTranscript) {
  auto provider = provider_of("openai");
  Lines expected = {
      "start call_4XzlGBLtUe9dy3GVNV4jhq7h get_weather",
      R"(delta call_4XzlGBLtUe9dy3GVNV4jhq7h "{\"")",
      R"(delta call_4XzlGBLtUe9dy3GVNV4jhq7h "city")",
      R"(delta call_4XzlGBLtUe9dy3GVNV4jhq7h "\":\"")",
      R"(delta call_4XzlGBLtUe9dy3GVNV4jhq7h "New")",
      R"(delta call_4XzlGBLtUe9dy3GVNV4jhq7h " York")",
      R"(delta call_4XzlGBLtUe9dy3GVNV4jhq7h " City")",
      R"(delta call_4XzlGBLtUe9dy3GVNV4jhq7h "\"}")",
      R"(done call_4XzlGBLtUe9dy3GVNV4jhq7h get_weather {"city":"New York City"})",
      "finish tool-calls 44/16",
  };
  std::string body = read_transcript("openai-tool.sse");
  EXPECT_EQ(run_stream(*provider, body), expected);
  EXPECT_EQ(run_stream(*provider, body, 1), expected);
  EXPECT_EQ(run_stream(*provider, body, 7), expected);
}

TEST(OpenAiStream, ParallelCallsWithInterleavedIndexes) {
  auto provider = provider_of("openai");
  Lines events = run_data(
      *provider,
      {
          R"({"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]})",
          R"({"choices":[{"index":0,"delta":{"content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"weather","arguments":""}}]}}]})",
          R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"time","arguments":"{\"tz\":"}}]}}]})",
          R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]})",
          R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"\"UTC\"}"}},{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]})",
          R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":null})",
          R"({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}})",
          "[DONE]",
      });
  EXPECT_EQ(events, (Lines{
                        "start call_1 weather",
                        R"(start call_2 time)",
                        R"(delta call_2 "{\"tz\":")",
                        R"(delta call_1 "{\"city\":")",
                        R"(delta call_2 "\"UTC\"}")",
                        R"(delta call_1 "\"Paris\"}")",
                        R"(done call_1 weather {"city":"Paris"})",
                        R"(done call_2 time {"tz":"UTC"})",
                        "finish tool-calls 5/7",
                    }));
}

// Cached prompt tokens are part of prompt_tokens, reasoning tokens part of completion_tokens.
TEST(OpenAiStream, CacheAndReasoningTokensAsTheLedgerReadsThem) {
  auto provider = provider_of("openai");
  EXPECT_EQ(
      finish_usage(*provider,
                   {{"", R"({"choices":[{"index":0,"delta":{"content":"hi"}}]})"},
                    {"", R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"},
                    {"", R"({"choices":[],"usage":{"prompt_tokens":2006,"completion_tokens":300,
                              "prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},
                              "completion_tokens_details":{"reasoning_tokens":256}}})"},
                    {"", "[DONE]"}}),
      "86/1920/-/300/256");
  // A compatible server that reports neither detail.
  EXPECT_EQ(
      finish_usage(*provider, {{"", R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],
                                             "usage":{"prompt_tokens":5,"completion_tokens":7}})"},
                               {"", "[DONE]"}}),
      "5/-/-/7/-");
}

TEST(OpenAiStream, CallsFinishInIndexOrderWhateverTheArrivalOrder) {
  auto provider = provider_of("openai");
  Lines events = run_data(
      *provider,
      {
          R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"second","arguments":"{}"}}]}}]})",
          R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"first"}}]}}]})",
          R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})",
          "[DONE]",
      });
  EXPECT_EQ(events, (Lines{"start b second", R"(delta b "{}")", "start a first", "done a first {}",
                           "done b second {}", "finish tool-calls -/-"}));
}

TEST(OpenAiStream, CompatibleServerQuirks) {
  auto provider = provider_of("openai");
  // Whole arguments in the first delta, the id repeated, every call at index 0, reasoning
  // text, "stop" as the finish reason of a tool call, no [DONE].
  Lines events = run_data(
      *provider,
      {
          R"({"choices":[{"index":0,"delta":{"reasoning_content":"Hmm."}}]})",
          R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"x1","function":{"name":"f","arguments":"{\"a\":1}"}}]}}]})",
          R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"x1","function":{"arguments":""}}]}}]})",
          R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"x2","function":{"name":"g","arguments":"{}"}}]}}]})",
          R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
      });
  EXPECT_EQ(events, (Lines{R"(reasoning "Hmm.")", "start x1 f", R"(delta x1 "{\"a\":1}")",
                           "start x2 g", R"(delta x2 "{}")", R"(done x1 f {"a":1})", "done x2 g {}",
                           "finish tool-calls -/-"}));
}

TEST(OpenAiStream, FinishReasons) {
  auto provider = provider_of("openai");
  auto finish = [&](const std::string& reason) {
    return run_data(*provider,
                    {R"({"choices":[{"index":0,"delta":{},"finish_reason":")" + reason + R"("}]})",
                     "[DONE]"})
        .back();
  };
  EXPECT_EQ(finish("stop"), "finish stop -/-");
  EXPECT_EQ(finish("length"), "finish length -/-");
  EXPECT_EQ(finish("content_filter"), "finish content-filter -/-");
  EXPECT_EQ(finish("function_call"), "finish tool-calls -/-");
  EXPECT_EQ(finish("weird"), "finish unknown -/-");
}

TEST(OpenAiStream, MidStreamErrorStopsTheStream) {
  auto provider = provider_of("openai");
  Lines events = run_data(
      *provider,
      {
          R"({"choices":[{"index":0,"delta":{"content":"Hel"}}]})",
          R"({"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}})",
          R"({"choices":[{"index":0,"delta":{"content":"lo"}}]})",
          "[DONE]",
      });
  EXPECT_EQ(
      events,
      (Lines{R"(text "Hel")",
             R"(error "OpenAI error: The server had an error while processing your request.")"}));
}

TEST(OpenAiStream, CutStream) {
  auto provider = provider_of("openai");
  EXPECT_EQ(run_data(*provider, {R"({"choices":[{"index":0,"delta":{"content":"Hel"}}]})"}),
            (Lines{R"(text "Hel")", R"(error "OpenAI stream ended unexpectedly")"}));
  EXPECT_EQ(run_data(*provider, {}), (Lines{R"(error "OpenAI stream ended unexpectedly")"}));
  // A cut in the middle of the arguments is not a call.
  EXPECT_EQ(
      run_data(
          *provider,
          {R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{\"a"}}]}}]})"}),
      (Lines{"start c f", R"(delta c "{\"a")", R"(error "OpenAI stream ended unexpectedly")"}));
}

TEST(OpenAiStream, InvalidArgumentsAreAnError) {
  auto provider = provider_of("openai");
  Lines events = run_data(
      *provider,
      {
          R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{\"a\":"}}]}}]})",
          R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})",
          "[DONE]",
      });
  EXPECT_EQ(events, (Lines{"start c f", R"(delta c "{\"a\":")",
                           R"(error "the model sent invalid tool arguments")"}));
}

TEST(OpenAiStream, NothingAfterTheFinish) {
  auto provider = provider_of("openai");
  Lines events =
      run_data(*provider, {
                              R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
                              "[DONE]",
                              R"({"choices":[{"index":0,"delta":{"content":"late"}}]})",
                              "[DONE]",
                          });
  EXPECT_EQ(events, (Lines{"finish stop -/-"}));
}

TEST(OpenAiStream, IgnoresNoise) {
  auto provider = provider_of("openai");
  Lines events = run_data(
      *provider,
      {
          "not json",
          R"({"choices":[{"index":0,"delta":{"content":"","refusal":null},"obfuscation":"x"}],"usage":null})",
          R"({"choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null}]})",
          R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
          "[DONE]",
      });
  EXPECT_EQ(events, (Lines{R"(text "Hi")", "finish stop -/-"}));
}

TEST(OpenAiError, Unauthorized) {
  auto provider = provider_of("openai");
  ProviderError error = provider->parse_error(
      401,
      R"({"error":{"message":"Incorrect API key provided: sk-test-key-123456. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})",
      "");
  EXPECT_EQ(
      error.message,
      "OpenAI error 401: Incorrect API key provided: [redacted]. You can find your API key at "
      "https://platform.openai.com/account/api-keys.");
  EXPECT_FALSE(error.retryable);
  EXPECT_FALSE(error.retry_after_seconds);
}

TEST(OpenAiError, RateLimitIsRetryable) {
  auto provider = provider_of("openai");
  ProviderError error = provider->parse_error(
      429,
      R"({"error":{"message":"Rate limit reached for gpt-4o on tokens per min (TPM): Limit 30000, Used 30000, Requested 500. Please try again in 1s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}})",
      "1.5");
  EXPECT_EQ(error.message,
            "OpenAI error 429: Rate limit reached for gpt-4o on tokens per min (TPM): Limit 30000, "
            "Used 30000, Requested 500. Please try again in 1s.");
  EXPECT_TRUE(error.retryable);
  ASSERT_TRUE(error.retry_after_seconds);
  EXPECT_DOUBLE_EQ(*error.retry_after_seconds, 1.5);
}

TEST(OpenAiError, InsufficientQuotaIsNotRetryable) {
  auto provider = provider_of("openai");
  ProviderError error = provider->parse_error(
      429,
      R"({"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}})",
      "");
  EXPECT_EQ(error.message,
            "OpenAI error 429: You exceeded your current quota, please check your plan and billing "
            "details.");
  EXPECT_FALSE(error.retryable);
}

TEST(OpenAiError, ServerErrors) {
  auto provider = provider_of("openai");
  ProviderError error = provider->parse_error(
      500,
      R"({"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}})",
      "");
  EXPECT_EQ(error.message,
            "OpenAI error 500: The server had an error while processing your request. Sorry about "
            "that!");
  EXPECT_TRUE(error.retryable);
  error = provider->parse_error(502, "<html><body>502 Bad Gateway</body></html>", "");
  EXPECT_EQ(error.message, "OpenAI error 502: Bad Gateway");
  EXPECT_TRUE(error.retryable);
  EXPECT_TRUE(provider->parse_error(503, "", "").retryable);
  EXPECT_TRUE(provider->parse_error(504, "", "").retryable);
  EXPECT_TRUE(provider->parse_error(529, "", "").retryable);
  EXPECT_FALSE(provider->parse_error(400, "", "").retryable);
  EXPECT_FALSE(provider->parse_error(404, "", "").retryable);
}

TEST(OpenAiError, CompatibleServerShapes) {
  auto provider = provider_of("openai");
  EXPECT_EQ(
      provider
          ->parse_error(404, R"({"error":"model \"llama9\" not found, try pulling it first"})", "")
          .message,
      R"(OpenAI error 404: model "llama9" not found, try pulling it first)");
  EXPECT_EQ(provider->parse_error(400, R"({"detail":"bad input"})", "").message,
            "OpenAI error 400: bad input");
}

TEST(OpenAiModels, ListCallAndParse) {
  auto provider = provider_of("openai");
  HttpCall call = provider->list_models_call();
  EXPECT_EQ(call.method, "GET");
  EXPECT_EQ(call.url, "https://api.openai.com/v1/models");
  EXPECT_EQ(call.headers, (std::vector<std::string>{"Authorization: Bearer sk-test-key-123456",
                                                    "Accept: application/json"}));
  EXPECT_EQ(provider->parse_model_list(R"({"object":"list","data":[
      {"id":"gpt-4o","object":"model","created":1,"owned_by":"system"},
      {"id":"text-embedding-3-small","object":"model"},
      {"id":"whisper-1","object":"model"},
      {"id":"o3-mini","object":"model"},
      {"id":"tts-1","object":"model"},
      {"object":"model"}]})"),
            (std::vector<std::string>{"gpt-4o", "o3-mini"}));
  EXPECT_EQ(provider_of("openai", "http://localhost:11434/v1")->list_models_call().url,
            "http://localhost:11434/v1/models");
  EXPECT_THROW(provider->parse_model_list("<html>"), std::runtime_error);
}

}  // namespace
}  // namespace chatd::llm
