// A provider type (openai, anthropic, google): how to ask it and how to read its answers.
// Implementations are pure: they build HttpCalls and map bytes to ModelEvents; the transport
// sends them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "llm/model.hpp"
#include "llm/sse_parser.hpp"

namespace chatd::llm {

struct ProviderConfig {
  std::string type;      // a type of llm/provider_registry.hpp
  std::string api_key;   // secret: never logged, never in an error message
  std::string base_url;  // empty: the provider's official URL (see API.md §6 for conventions)
  std::vector<std::string> models;  // empty: fetched from the provider's model list
};

// Turns one streamed response body (already split into SSE events) into ModelEvents.
class StreamMapper {
 public:
  virtual ~StreamMapper() = default;
  virtual void on_event(const SseEvent& event, std::vector<ModelEvent>& out) = 0;
  // The body ended. Emits StepFinish, or StreamError when the stream was cut short (no
  // [DONE] / message_stop / finishReason).
  virtual void on_end(std::vector<ModelEvent>& out) = 0;
  // What the provider reported of the call's usage so far (all of it once StepFinish came):
  // a call cut short is recorded with what it had.
  virtual Usage usage() const { return {}; }
};

// A failed HTTP response turned into something to tell the user and to decide on a retry.
struct ProviderError {
  std::string message;     // e.g. "OpenAI: 429 Rate limit reached for gpt-4o ..." (no key, short)
  bool retryable = false;  // 429 (not quota), 500, 502, 503, 504, 529
  std::optional<double> retry_after_seconds;  // from retry-after or Gemini RetryInfo
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual const std::string& type() const = 0;
  virtual HttpCall stream_call(const ModelRequest& request) const = 0;
  // Whether a user message may attach a file of this type (by URL when `remote`) in this
  // provider's format. A file it cannot take is left out of older messages (the model reads
  // that it was) and fails the reply when it is in the newest one (llm/reply.cpp).
  virtual bool takes_file(std::string_view /*media_type*/, bool /*remote*/) const { return true; }
  virtual std::unique_ptr<StreamMapper> new_stream_mapper() const = 0;
  // `retry_after` is the Retry-After header's value, empty when absent.
  virtual ProviderError parse_error(long status, const std::string& body,
                                    const std::string& retry_after) const = 0;
  virtual HttpCall list_models_call() const = 0;
  virtual std::vector<std::string> parse_model_list(const std::string& body) const = 0;
};

}  // namespace chatd::llm
