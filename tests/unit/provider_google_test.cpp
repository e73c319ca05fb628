// Google Gemini: request JSON (with the schema conversion), stream mapping, errors, model list.
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

// The functionDeclarations Gemini gets for one tool with this schema.
json declaration_for(const json& schema) {
  auto provider = provider_of("google");
  ModelRequest request;
  request.model = "gemini-2.5-flash";
  request.messages = json::parse(R"([{"role": "user", "content": "Hi"}])");
  request.tools.push_back(ToolSpec{"t", "", schema});
  return body_of(provider->stream_call(request))["tools"][0]["functionDeclarations"][0];
}

TEST(GoogleRequest, GoldenHistoryWithToolsAndThinking) {
  auto provider = provider_of("google");
  HttpCall call = provider->stream_call(golden_request("gemini-2.5-flash"));
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url,
            "https://generativelanguage.googleapis.com/v1beta/models/"
            "gemini-2.5-flash:streamGenerateContent?alt=sse");
  EXPECT_EQ(call.headers, (std::vector<std::string>{"x-goog-api-key: sk-test-key-123456",
                                                    "Content-Type: application/json",
                                                    "Accept: text/event-stream"}));
  json expected = json::parse(R"json({
    "systemInstruction": {"parts": [{"text": "You are terse."}]},
    "contents": [
      {"role": "user", "parts": [
        {"text": "What is in this picture?"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}]},
      {"role": "model", "parts": [
        {"text": "A cat. Let me check the weather."},
        {"functionCall": {"id": "call_A", "name": "weather", "args": {"city": "Paris"}},
         "thoughtSignature": "gsig-A"},
        {"functionCall": {"id": "call_B", "name": "weather", "args": {"city": "Oslo"}}}]},
      {"role": "user", "parts": [
        {"functionResponse": {"id": "call_A", "name": "weather",
                              "response": {"name": "weather", "content": {"tempC": 18}}}},
        {"functionResponse": {"id": "call_B", "name": "weather",
                              "response": {"name": "weather", "content": {"error": "timeout"}}}}]},
      {"role": "model", "parts": [{"text": "Paris is 18°C; Oslo did not answer."}]},
      {"role": "user", "parts": [{"text": "And Rome?"}]}
    ],
    "generationConfig": {"maxOutputTokens": 1000, "thinkingConfig": {"includeThoughts": true}},
    "tools": [{"functionDeclarations": [
      {"name": "weather", "description": "Current weather in a city",
       "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}},
      {"name": "search", "description": "Search the notes",
       "parameters": {
         "type": "OBJECT",
         "properties": {
           "query": {"type": "STRING", "description": "What to look for"},
           "filters": {
             "type": "OBJECT",
             "properties": {
               "since": {"type": "STRING", "nullable": true, "format": "date-time"},
               "tags": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["news", "blog"]}},
               "limit": {"type": "INTEGER", "minimum": 1}
             },
             "required": ["since"]
           }
         },
         "required": ["query"]}}
    ]}]
  })json");
  EXPECT_EQ(body_of(call), expected) << body_of(call).dump(2);
}

TEST(GoogleRequest, MinimalRequestAndUrl) {
  auto provider = provider_of("google", "https://gemini.example.com/");
  ModelRequest request;
  request.model = "models/gemini-2.0-flash";
  request.messages = json::parse(R"([{"role": "user", "content": "Hi"}])");
  HttpCall call = provider->stream_call(request);
  EXPECT_EQ(
      call.url,
      "https://gemini.example.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse");
  EXPECT_EQ(body_of(call),
            json::parse(R"({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
    "generationConfig": {"maxOutputTokens": 4096}})"));
}

TEST(GoogleRequest, GeneratedIdsAreNotSentBackAndRolesAlternate) {
  auto provider = provider_of("google");
  ModelRequest request;
  request.model = "gemini-2.5-flash";
  request.messages = json::parse(R"json([
    {"role": "user", "content": "Time?"},
    {"role": "assistant", "parts": [
      {"type": "step-start"},
      {"type": "tool-invocation", "toolInvocation": {"state": "result", "toolCallId": "call_7",
        "toolName": "now", "args": {}, "result": "12:00"}}]},
    {"role": "user", "content": "Thanks"}
  ])json");
  json body = body_of(provider->stream_call(request));
  EXPECT_EQ(body["contents"], json::parse(R"json([
    {"role": "user", "parts": [{"text": "Time?"}]},
    {"role": "model", "parts": [{"functionCall": {"name": "now", "args": {}}}]},
    {"role": "user", "parts": [
      {"functionResponse": {"name": "now", "response": {"name": "now", "content": "12:00"}}},
      {"text": "Thanks"}]}])json"))
      << body["contents"].dump(2);
}

TEST(GoogleRequest, AttachmentsByType) {
  auto provider = provider_of("google");
  ModelRequest request;
  request.model = "gemini-2.5-flash";
  request.messages = json::parse(R"json([{"role": "user", "content": "See",
    "experimental_attachments": [
      {"name": "a.webp", "contentType": "image/webp", "url": "https://example.com/a.webp"},
      {"name": "d.pdf", "contentType": "application/pdf", "url": "data:application/pdf;base64,JVBERi0x"},
      {"name": "t.txt", "contentType": "text/plain", "url": "data:,hello%20world"},
      {"name": "b.gif", "contentType": "image/gif", "url": "data:image/gif;base64,R0lG"}]}])json");
  json body = body_of(provider->stream_call(request));
  EXPECT_EQ(body["contents"][0]["parts"], json::parse(R"json([
    {"text": "See"},
    {"fileData": {"mimeType": "image/webp", "fileUri": "https://example.com/a.webp"}},
    {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0x"}},
    {"text": "[attachment t.txt (text/plain) omitted]"},
    {"text": "[attachment b.gif (image/gif) omitted]"}])json"))
      << body["contents"][0]["parts"].dump(2);
}

TEST(GoogleSchema, EmptyObjectHasNoParameters) {
  EXPECT_EQ(declaration_for(json::parse(R"({"type": "object", "properties": {}})")),
            json::parse(R"({"name": "t"})"));
  EXPECT_EQ(declaration_for(json::parse(R"({"type": "object"})")), json::parse(R"({"name": "t"})"));
  EXPECT_EQ(declaration_for(json()), json::parse(R"({"name": "t"})"));
}

TEST(GoogleSchema, RefsAnyOfConstAllOfAndDroppedKeywords) {
  json schema = json::parse(R"json({
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {"Point": {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                        "required": ["x", "y", "z"]}},
    "properties": {
      "at": {"$ref": "#/$defs/Point", "description": "Where"},
      "missing": {"$ref": "#/$defs/Nope"},
      "maybe": {"anyOf": [{"type": "integer", "maximum": 9}, {"type": "null"}]},
      "either": {"oneOf": [{"type": "string"}, {"type": "boolean"}]},
      "mode": {"const": "fast"},
      "both": {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                         {"properties": {"b": {"type": "string"}}, "required": ["b"]}]},
      "when": {"type": "string", "format": "uri", "pattern": "^h", "minLength": 1},
      "level": {"type": "integer", "enum": [1, 2, 3], "exclusiveMinimum": 0},
      "list": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": ["string"]}},
               "additionalProperties": false}, "minItems": 1, "uniqueItems": true},
      "free": {"type": "object", "additionalProperties": {"type": "string"}},
      "nothing": {"type": "null"}
    },
    "required": ["at", "ghost"]
  })json");
  EXPECT_EQ(declaration_for(schema)["parameters"], json::parse(R"json({
    "type": "OBJECT",
    "properties": {
      "at": {"type": "OBJECT", "description": "Where",
             "properties": {"x": {"type": "NUMBER"}, "y": {"type": "NUMBER"}}, "required": ["x", "y"]},
      "missing": {},
      "maybe": {"type": "INTEGER", "maximum": 9, "nullable": true},
      "either": {"anyOf": [{"type": "STRING"}, {"type": "BOOLEAN"}]},
      "mode": {"type": "STRING", "enum": ["fast"]},
      "both": {"type": "OBJECT", "properties": {"a": {"type": "STRING"}, "b": {"type": "STRING"}},
               "required": ["a", "b"]},
      "when": {"type": "STRING"},
      "level": {"type": "INTEGER"},
      "list": {"type": "ARRAY", "minItems": 1,
               "items": {"type": "OBJECT", "properties": {"k": {"type": "STRING"}}}},
      "free": {"type": "OBJECT"},
      "nothing": {"nullable": true}
    },
    "required": ["at"]
  })json"))
      << declaration_for(schema)["parameters"].dump(2);
}

TEST(GoogleSchema, RecursiveRefsAreCut) {
  json schema = json::parse(R"json({"type": "object",
    "$defs": {"Node": {"type": "object", "properties": {
      "left": {"$ref": "#/$defs/Node"}, "right": {"$ref": "#/$defs/Node"}, "v": {"type": "string"}}}},
    "properties": {"root": {"$ref": "#/$defs/Node"}}})json");
  EXPECT_EQ(declaration_for(schema)["parameters"], json::parse(R"json({"type": "OBJECT",
    "properties": {"root": {"type": "OBJECT", "properties": {
      "left": {"type": "OBJECT"}, "right": {"type": "OBJECT"}, "v": {"type": "STRING"}}}}})json"));
}

TEST(GoogleStream, TextTranscript) {
  auto provider = provider_of("google");
  Lines expected;
  for (const char* piece : {"Here", " you go:\n\nEnglish: potato\nSpanish: patata\nFrench: pom",
                            "me de terre\nGerman: Kartoffel\nItalian: patata\nJapanese: ジャ",
                            "ガイモ (jagaimo)\nRussian: картофель (kartofel')\n"})
    expected.push_back("text " + json(piece).dump());
  expected.push_back("finish stop 10/49");
  std::string body = read_transcript("google-text.sse");
  EXPECT_EQ(run_stream(*provider, body), expected);
  EXPECT_EQ(run_stream(*provider, body, 1), expected);
  EXPECT_EQ(run_stream(*provider, body, 7), expected);
}

TEST(GoogleStream, ToolTranscript) {
  auto provider = provider_of("google");
  const std::string signature =
      "EqUCCqICAb4+"
      "9vsh8Pd5taZVoPzSvjWWwzBrvhEQWBLCGa7IdY8FBMm7Z6dCKFU3Ft0la15gF7RaHe1NlPRygQec0bFwPD"
      "fMwGcUOMNiJiNIKxusCs4ejCZRuouNYQ4etEIt7CujEUHiILLfZXSJZYhs4UCrD2bLqPq0sE0lWgYJnzHkkKUOnMsA2h"
      "Kf"
      "fAhtF4DWn5INYj8pPssvch/"
      "2VpDFW2F9XSE04zLDzkIWF2eztJX50Y0lTehRZC3FW7fOrXCzGx+PwdataD6eXlF5O1zn+8"
      "6XtmktOs2DEp4o1PMvXFFAXe8GGvPt8Idf3UtHMq7AsapwMW9sjiKj+FJk54m+"
      "9LMTSaj7C86smfvoQryYBEHTVazr1bEn"
      "pl4bPG5JUtm2yAMkHj4=";
  std::string body = read_transcript("google-tool.sse");
  for (size_t chunk : {0, 1, 7}) {
    auto fresh = provider_of("google");
    EXPECT_EQ(
        run_stream(*fresh, body, chunk),
        (Lines{
            "start call_1 weather",
            R"(done call_1 weather {"location":"San Francisco"} {"google":{"thoughtSignature":")" +
                signature + R"("}})",
            "finish tool-calls 29/60"}))
        << "chunk " << chunk;
  }
}

// Gemini counts its implicit cache reads within promptTokenCount and its thoughts beside the
// candidates (added to them: the output).
TEST(GoogleStream, CacheAndThoughtTokensAsTheLedgerReadsThem) {
  auto provider = provider_of("google");
  EXPECT_EQ(
      finish_usage(*provider,
                   {{"", R"({"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},
                                   "finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1100,
                                   "cachedContentTokenCount":1024,"candidatesTokenCount":4,
                                   "thoughtsTokenCount":30,"totalTokenCount":1134}})"}}),
      "76/1024/-/34/30");
}

TEST(GoogleStream, CrlfThoughtsAndSeveralCalls) {
  auto provider = provider_of("google");
  std::string body =
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Let me "
      "see.\",\"thought\":true}],"
      "\"role\":\"model\"}}],\"usageMetadata\":{\"promptTokenCount\":3}}\r\n\r\n"
      "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"},{\"functionCall\":{\"id\":"
      "\"fc-9\",\"name\":\"f\",\"args\":{\"a\":[1]}}},{\"functionCall\":{\"name\":\"g\"}}],"
      "\"role\":"
      "\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":3,"
      "\"candidatesTokenCount\":4,\"thoughtsTokenCount\":2}}\r\n\r\n";
  Lines expected = {R"(reasoning "Let me see.")", R"(text "Hi")",   "start fc-9 f",
                    R"(done fc-9 f {"a":[1]})",   "start call_1 g", "done call_1 g {}",
                    "finish tool-calls 3/6"};
  EXPECT_EQ(run_stream(*provider, body, 1), expected);
  // The next stream of the same provider does not reuse call_1.
  EXPECT_EQ(run_stream(*provider, body)[4], "start call_2 g");
}

TEST(GoogleStream, ErrorsAndBlockedPrompt) {
  auto provider = provider_of("google");
  EXPECT_EQ(
      run_data(
          *provider,
          {R"({"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"}}]})",
           R"({"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}})",
           R"({"candidates":[{"content":{"parts":[{"text":"lo"}]},"finishReason":"STOP"}]})"}),
      (Lines{R"(text "Hel")", R"(error "Google error: Internal error encountered.")"}));
  EXPECT_EQ(
      run_data(
          *provider,
          {R"({"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":8}})"}),
      (Lines{R"x(error "Google: prompt blocked (SAFETY)")x"}));
}

TEST(GoogleStream, CutStream) {
  auto provider = provider_of("google");
  EXPECT_EQ(run_data(*provider, {R"({"candidates":[{"content":{"parts":[{"text":"Hel"}]}}]})"}),
            (Lines{R"(text "Hel")", R"(error "Google stream ended unexpectedly")"}));
  EXPECT_EQ(run_data(*provider, {}), (Lines{R"(error "Google stream ended unexpectedly")"}));
}

TEST(GoogleStream, FinishReasons) {
  auto provider = provider_of("google");
  auto finish = [&](const std::string& reason) {
    return run_data(*provider, {R"({"candidates":[{"finishReason":")" + reason + R"("}]})"}).back();
  };
  EXPECT_EQ(finish("STOP"), "finish stop -/-");
  EXPECT_EQ(finish("MAX_TOKENS"), "finish length -/-");
  EXPECT_EQ(finish("SAFETY"), "finish content-filter -/-");
  EXPECT_EQ(finish("RECITATION"), "finish content-filter -/-");
  EXPECT_EQ(finish("PROHIBITED_CONTENT"), "finish content-filter -/-");
  EXPECT_EQ(finish("MALFORMED_FUNCTION_CALL"), "finish error -/-");
  EXPECT_EQ(finish("OTHER"), "finish other -/-");
  EXPECT_EQ(finish("FINISH_REASON_UNSPECIFIED"), "finish other -/-");
  EXPECT_EQ(finish("LANGUAGE"), "finish unknown -/-");
}

TEST(GoogleError, InvalidKeyIs400) {
  auto provider = provider_of("google");
  ProviderError error = provider->parse_error(
      400,
      R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}})",
      "");
  EXPECT_EQ(error.message, "Google error 400: API key not valid. Please pass a valid API key.");
  EXPECT_FALSE(error.retryable);
  error = provider->parse_error(
      401,
      R"({"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}})",
      "");
  EXPECT_EQ(error.message, "Google error 401: Request had invalid authentication credentials.");
  EXPECT_FALSE(error.retryable);
}

TEST(GoogleError, RateLimitWithRetryInfo) {
  auto provider = provider_of("google");
  const std::string body = R"({
    "error": {
      "code": 429,
      "message": "You exceeded your current quota, please check your plan.",
      "status": "RESOURCE_EXHAUSTED",
      "details": [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
         "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "34.4s"}
      ]
    }
  })";
  ProviderError error = provider->parse_error(429, body, "");
  EXPECT_EQ(error.message,
            "Google error 429: You exceeded your current quota, please check your plan.");
  EXPECT_TRUE(error.retryable);
  ASSERT_TRUE(error.retry_after_seconds);
  EXPECT_DOUBLE_EQ(*error.retry_after_seconds, 34.4);
  // The header, when there is one, wins.
  EXPECT_DOUBLE_EQ(*provider->parse_error(429, body, "5").retry_after_seconds, 5);
  // Wrapped in an array (a response without alt=sse).
  EXPECT_TRUE(provider->parse_error(429, "[" + body + "]", "").retryable);
}

TEST(GoogleError, DailyQuotaIsNotRetryable) {
  auto provider = provider_of("google");
  ProviderError error = provider->parse_error(429, R"({"error":{"code":429,
    "message":"You exceeded your current quota, please check your plan and billing details.",
    "status":"RESOURCE_EXHAUSTED","details":[
      {"@type":"type.googleapis.com/google.rpc.QuotaFailure",
       "violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests",
                      "quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
      {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"20s"}]}})",
                                              "");
  EXPECT_FALSE(error.retryable);
  EXPECT_DOUBLE_EQ(*error.retry_after_seconds, 20);
}

TEST(GoogleError, ServerErrorsAndKeyRedaction) {
  auto provider = provider_of("google");
  ProviderError error = provider->parse_error(
      500,
      R"({"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}})",
      "");
  EXPECT_EQ(error.message, "Google error 500: An internal error has occurred.");
  EXPECT_TRUE(error.retryable);
  error = provider->parse_error(
      503,
      R"({"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}})",
      "");
  EXPECT_TRUE(error.retryable);
  EXPECT_TRUE(provider->parse_error(529, "", "").retryable);
  error = provider->parse_error(
      403, R"({"error":{"code":403,"message":"Key sk-test-key-123456 is not allowed"}})", "");
  EXPECT_EQ(error.message, "Google error 403: Key [redacted] is not allowed");
}

TEST(GoogleModels, ListCallAndParse) {
  auto provider = provider_of("google");
  HttpCall call = provider->list_models_call();
  EXPECT_EQ(call.method, "GET");
  EXPECT_EQ(call.url, "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1000");
  EXPECT_EQ(call.headers, (std::vector<std::string>{"x-goog-api-key: sk-test-key-123456",
                                                    "Accept: application/json"}));
  EXPECT_EQ(provider->parse_model_list(R"({"models":[
      {"name":"models/gemini-2.0-flash","displayName":"Gemini 2.0 Flash",
       "supportedGenerationMethods":["generateContent","countTokens"]},
      {"name":"models/text-embedding-004","supportedGenerationMethods":["embedContent"]},
      {"name":"models/gemini-exp"}],"nextPageToken":"abc"})"),
            (std::vector<std::string>{"gemini-2.0-flash", "gemini-exp"}));
  EXPECT_EQ(provider->parse_model_list("{}"), std::vector<std::string>{});
  EXPECT_THROW(provider->parse_model_list("oops"), std::runtime_error);
}

}  // namespace
}  // namespace chatd::llm
