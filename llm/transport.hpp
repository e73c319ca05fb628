// HTTP to providers with libcurl, blocking: one easy handle per thread, reused so connections
// (and TLS sessions) to a provider stay warm.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "llm/model.hpp"

namespace chatd::llm {

struct TransportLimits {
  std::chrono::milliseconds connect_timeout{10'000};
  // A response that sends nothing for this long has failed (stalled).
  std::chrono::milliseconds idle_timeout{60'000};
  // Largest error or model-list body kept (a streamed body is not kept).
  size_t max_body = 1 << 20;
};

struct HttpResult {
  long status = 0;          // 0: no HTTP response (connection failed, timeout, abort)
  std::string body;         // kept for non-200 answers and for fetch()
  std::string retry_after;  // the Retry-After header, if any
  std::string error;        // transport failure, short and safe to show ("timed out", ...)
  bool aborted = false;     // stopped by the caller (on_data answered kAbort)
  bool stalled = false;     // idle_timeout passed without a byte
};

// A blocking HTTP client for what runs once on a thread of its own (the model lists, at a
// worker's start and for `chatd models`); replies use the reply loop's HttpClient.
class Transport {
 public:
  explicit Transport(TransportLimits limits) : limits_(limits) {}

  // A whole response.
  HttpResult fetch(const HttpCall& call) const;

 private:
  TransportLimits limits_;
};

}  // namespace chatd::llm
