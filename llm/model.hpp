// The provider-neutral vocabulary of a model call: what we ask (ModelRequest) and what comes
// back, event by event (ModelEvent). Provider files translate to and from their wire formats.
#pragma once

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "llm/finish_reason.hpp"

namespace chatd::llm {

// A tool the model may call. `parameters` is the tool's JSON Schema (an object schema).
struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::json parameters;
};

struct ModelRequest {
  std::string model;
  std::string system_prompt;  // empty: none
  // AI SDK v4 UI messages (STREAM-PROTOCOL.md §2.1), oldest first: the stored history plus the
  // new user message, and for later steps the assistant message of this reply so far.
  nlohmann::json messages = nlohmann::json::array();
  std::vector<ToolSpec> tools;
  bool thinking = false;
  int max_tokens = 4096;
  // The conversation's stable id (its chat): its prompt is cached (OpenAI's prompt_cache_key,
  // Anthropic's cache_control breakpoints); empty: no caching asked for.
  std::string cache_key;
};

// An HTTP request to a provider, ready for the transport.
struct HttpCall {
  std::string method = "POST";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"; the API key is among them: never log
  std::string body;
};

// A model call's tokens as its provider reported them (none: not reported). The output counts
// the reasoning in it with every provider (Gemini's thoughts are added to its candidates). The
// input counts the cache reads with OpenAI and Gemini, not with Anthropic, which reports them
// (and the cache writes) beside it: uncached_input() is the same for all.
struct Usage {
  std::optional<long long> prompt_tokens;
  std::optional<long long> completion_tokens;
  std::optional<long long> cache_read_tokens;
  std::optional<long long> cache_write_tokens;
  std::optional<long long> reasoning_tokens;
  bool prompt_includes_cache = true;  // false for Anthropic's input_tokens

  // The input tokens read from no cache and written to none: those billed at the input price.
  std::optional<long long> uncached_input() const {
    if (!prompt_tokens || !prompt_includes_cache) return prompt_tokens;
    return std::max(0LL, *prompt_tokens - cache_read_tokens.value_or(0));
  }
};

// One event of a streamed response, in arrival order.
struct TextDelta {
  std::string text;
};
struct ReasoningDelta {
  std::string text;
};
struct ReasoningSignature {  // Anthropic: closes the current reasoning text
  std::string signature;
};
struct RedactedReasoning {  // Anthropic redacted_thinking
  std::string data;
};
struct ToolCallStart {
  std::string id;
  std::string name;
};
struct ToolCallDelta {
  std::string id;
  std::string args_delta;
};
// A complete call: args is a JSON object. provider_metadata (may be null) travels with the
// call into the stored message and back to the provider (Gemini's thoughtSignature).
struct ToolCallDone {
  std::string id;
  std::string name;
  nlohmann::json args;
  nlohmann::json provider_metadata;
};
// The response ended normally.
struct StepFinish {
  FinishReason finish_reason = FinishReason::kUnknown;
  Usage usage;
};
// The provider reported an error inside the stream, or the stream was cut short. The message
// is short and safe to show a user (no keys, no raw bodies).
struct StreamError {
  std::string message;
};

using ModelEvent =
    std::variant<TextDelta, ReasoningDelta, ReasoningSignature, RedactedReasoning, ToolCallStart,
                 ToolCallDelta, ToolCallDone, StepFinish, StreamError>;

}  // namespace chatd::llm
