// Helpers for the provider tests: transcripts through SseParser and a StreamMapper, and
// ModelEvents written as one-line strings so that whole sequences compare at once.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "llm/provider_registry.hpp"
#include "llm/sse_parser.hpp"

namespace chatd::llm::testing {

inline std::string read_transcript(const std::string& name) {
  const std::string path = std::string(CHATD_SOURCE_DIR "/tests/fixtures/transcripts/") + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string quoted(const std::string& text) { return nlohmann::json(text).dump(); }

inline std::string usage_text(const std::optional<long long>& n) {
  return n ? std::to_string(*n) : std::string("-");
}

// text "Hi" | reasoning "…" | signature "…" | redacted "…" | start ID NAME | delta ID "…" |
// done ID NAME {args} [{metadata}] | finish REASON PROMPT/COMPLETION | error "…"
inline std::string describe(const ModelEvent& event) {
  return std::visit(
      [](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, TextDelta>) {
          return "text " + quoted(e.text);
        } else if constexpr (std::is_same_v<T, ReasoningDelta>) {
          return "reasoning " + quoted(e.text);
        } else if constexpr (std::is_same_v<T, ReasoningSignature>) {
          return "signature " + quoted(e.signature);
        } else if constexpr (std::is_same_v<T, RedactedReasoning>) {
          return "redacted " + quoted(e.data);
        } else if constexpr (std::is_same_v<T, ToolCallStart>) {
          return "start " + e.id + " " + e.name;
        } else if constexpr (std::is_same_v<T, ToolCallDelta>) {
          return "delta " + e.id + " " + quoted(e.args_delta);
        } else if constexpr (std::is_same_v<T, ToolCallDone>) {
          std::string text = "done " + e.id + " " + e.name + " " + e.args.dump();
          if (!e.provider_metadata.is_null()) text += " " + e.provider_metadata.dump();
          return text;
        } else if constexpr (std::is_same_v<T, StepFinish>) {
          return "finish " + std::string(wire_name(e.finish_reason)) + " " +
                 usage_text(e.usage.prompt_tokens) + "/" + usage_text(e.usage.completion_tokens);
        } else {
          return "error " + quoted(e.message);
        }
      },
      event);
}

using Lines = std::vector<std::string>;

// Feeds `body` to a fresh mapper of `provider` in reads of `chunk` bytes (0: all at once),
// through SseParser, and ends the stream.
inline Lines run_stream(const Provider& provider, std::string_view body, size_t chunk = 0) {
  SseParser parser;
  auto mapper = provider.new_stream_mapper();
  std::vector<SseEvent> sse;
  std::vector<ModelEvent> events;
  if (chunk == 0) chunk = body.size() + 1;
  for (size_t at = 0; at < body.size(); at += chunk) {
    parser.feed(body.substr(at, chunk), sse);
    for (const auto& e : sse) mapper->on_event(e, events);
    sse.clear();
  }
  parser.finish(sse);
  for (const auto& e : sse) mapper->on_event(e, events);
  mapper->on_end(events);
  Lines lines;
  for (const auto& e : events) lines.push_back(describe(e));
  return lines;
}

// Maps already-split events (event name, data) and ends the stream.
inline Lines run_events(const Provider& provider,
                        const std::vector<std::pair<std::string, std::string>>& sse,
                        bool end = true) {
  auto mapper = provider.new_stream_mapper();
  std::vector<ModelEvent> events;
  for (const auto& [name, data] : sse) mapper->on_event(SseEvent{name, data}, events);
  if (end) mapper->on_end(events);
  Lines lines;
  for (const auto& e : events) lines.push_back(describe(e));
  return lines;
}

// Data-only events (OpenAI, Gemini).
inline Lines run_data(const Provider& provider, const std::vector<std::string>& data,
                      bool end = true) {
  std::vector<std::pair<std::string, std::string>> sse;
  for (const auto& d : data) sse.emplace_back("", d);
  return run_events(provider, sse, end);
}

// The usage of the stream's StepFinish, as the ledger reads it: "input/cache-read/cache-write/
// output/reasoning" with "-" for what was not reported, the input as uncached_input().
inline std::string finish_usage(const Provider& provider,
                                const std::vector<std::pair<std::string, std::string>>& sse) {
  auto mapper = provider.new_stream_mapper();
  std::vector<ModelEvent> events;
  for (const auto& [name, data] : sse) mapper->on_event(SseEvent{name, data}, events);
  mapper->on_end(events);
  for (const auto& e : events) {
    if (const auto* finish = std::get_if<StepFinish>(&e)) {
      const Usage& u = finish->usage;
      return usage_text(u.uncached_input()) + "/" + usage_text(u.cache_read_tokens) + "/" +
             usage_text(u.cache_write_tokens) + "/" + usage_text(u.completion_tokens) + "/" +
             usage_text(u.reasoning_tokens);
    }
  }
  return "no finish";
}

inline std::unique_ptr<Provider> provider_of(const std::string& type,
                                             const std::string& base_url = "",
                                             const std::string& api_key = "sk-test-key-123456") {
  ProviderConfig config;
  config.type = type;
  config.api_key = api_key;
  config.base_url = base_url;
  return make_provider(config);
}

// The request every provider's golden test converts: a system prompt; a user text with an
// image attachment; an assistant message in two steps (signed reasoning, text and two
// parallel calls with their results; then text); a new user message. Two tools, one with a
// nested object schema; thinking on.
inline ModelRequest golden_request(const std::string& model) {
  ModelRequest request;
  request.model = model;
  request.system_prompt = "You are terse.";
  request.thinking = true;
  request.max_tokens = 1000;
  request.messages = nlohmann::json::parse(R"json([
    {"id": "u1", "createdAt": "2025-01-01T00:00:00Z", "role": "user",
     "content": "What is in this picture?",
     "parts": [{"type": "text", "text": "What is in this picture?"}],
     "experimental_attachments": [
       {"name": "cat.png", "contentType": "image/png", "url": "data:image/png;base64,iVBORw0KGgo="}]},
    {"id": "a1", "role": "assistant", "content": "A cat. Let me check the weather.Paris is 18°C; Oslo did not answer.",
     "parts": [
       {"type": "step-start"},
       {"type": "reasoning", "reasoning": "Two cities: call both.",
        "details": [{"type": "text", "text": "Two cities: call both.", "signature": "sig-1"}]},
       {"type": "text", "text": "A cat. "},
       {"type": "text", "text": "Let me check the weather."},
       {"type": "tool-invocation", "toolInvocation": {"state": "result", "step": 0,
         "toolCallId": "call_A", "toolName": "weather", "args": {"city": "Paris"},
         "result": {"tempC": 18},
         "providerMetadata": {"google": {"thoughtSignature": "gsig-A"}}}},
       {"type": "tool-invocation", "toolInvocation": {"state": "result", "step": 0,
         "toolCallId": "call_B", "toolName": "weather", "args": {"city": "Oslo"},
         "result": {"error": "timeout"}}},
       {"type": "step-start"},
       {"type": "text", "text": "Paris is 18°C; "},
       {"type": "text", "text": "Oslo did not answer."}
     ]},
    {"role": "user", "content": "And Rome?"}
  ])json");
  request.tools.push_back(
      ToolSpec{"weather", "Current weather in a city", nlohmann::json::parse(R"json({
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})json")});
  request.tools.push_back(ToolSpec{"search", "Search the notes", nlohmann::json::parse(R"json({
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
    "additionalProperties": false})json")});
  return request;
}

inline nlohmann::json body_of(const HttpCall& call) { return nlohmann::json::parse(call.body); }

}  // namespace chatd::llm::testing
