// The metrics counters: fixed arrays of atomics indexed by route, status code, provider, finish
// reason, …, and latency histograms with fixed buckets. They live in the scoreboard's shared
// segment (worker/scoreboard.hpp), so every worker adds to the same ones.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "llm/finish_reason.hpp"
#include "llm/provider_registry.hpp"
#include "worker/atomic_text.hpp"

namespace chatd::metrics {

// Routes by their index in the route table (http::routes()); the last index is for requests
// that matched none (404, 405, and bodies refused before routing).
inline constexpr size_t kMaxRoutes = 32;
inline constexpr size_t kUnmatchedRoute = kMaxRoutes - 1;
// HTTP status codes by value; 0 is "no status" (no HTTP response from a provider).
inline constexpr size_t kStatusCodes = 600;
// Upper bounds of the latency buckets, in seconds; streamed replies take minutes.
inline constexpr std::array<double, 17> kLatencyBounds = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
// The provider types of llm/provider_registry.hpp in its order, then one for any other type.
inline constexpr size_t kProviderSlots = llm::kProviderTypes.size() + 1;
// llm::UpstreamFailure without kNone, in its order.
inline constexpr std::array<std::string_view, 5> kUpstreamFailures = {
    "status", "connect", "stalled", "dropped", "stream"};
// MCP servers get an index the first time one of their tools is called; past this many, and
// for calls of unknown tools, the last index ("unknown").
inline constexpr size_t kMaxMcpServers = 32;
// Models get an index the first time one of their calls is counted; past this many, the last
// ("other").
inline constexpr size_t kMaxModels = 64;
// A model call's kind (API.md §9) and the kinds of tokens the usage ledger counts.
inline constexpr std::array<std::string_view, 2> kCallKinds = {"step", "title"};
inline constexpr std::array<std::string_view, 5> kTokenKinds = {"input", "output", "cache_read",
                                                                "cache_write", "reasoning"};
inline constexpr std::array<std::string_view, 3> kMcpResults = {"ok", "tool_error", "failed"};
inline constexpr std::array<std::string_view, 2> kRestartReasons = {"crash", "recycle"};
inline constexpr size_t kCrashRestart = 0;
inline constexpr size_t kRecycleRestart = 1;

using Counter = std::atomic<uint64_t>;

struct Histogram {
  // Not cumulative: bucket i counts observations in (bound[i-1], bound[i]]; the last counts
  // those above every bound.
  std::array<Counter, kLatencyBounds.size() + 1> buckets{};
  Counter sum_us{0};
  void observe(std::chrono::microseconds duration);
};

// A name that owns an index of the counters (an MCP server, a model), claimed by whichever
// process counts it first.
struct SlotName {
  std::atomic<uint32_t> state{0};  // 0 free, 1 being claimed, 2 named
  scoreboard::AtomicText<64> name;
};

// Everything counted since the master started, by every worker. Zero-filled memory is a valid
// Counters: the segment needs no construction beyond that.
struct Counters {
  std::array<std::array<Counter, kStatusCodes>, kMaxRoutes> http_requests{};
  std::array<Histogram, kMaxRoutes> http_duration{};
  std::array<Counter, llm::kAllFinishReasons.size()> replies{};  // by llm::FinishReason
  Counter reply_parts{0};
  std::array<Counter, 2> reply_tokens{};  // prompt, completion
  std::array<std::array<Counter, kStatusCodes>, kProviderSlots> upstream_requests{};
  std::array<std::array<Counter, kUpstreamFailures.size()>, kProviderSlots> upstream_errors{};
  std::array<Counter, kProviderSlots> upstream_retries{};
  std::array<SlotName, kMaxMcpServers> mcp_servers{};
  std::array<std::array<Counter, kMcpResults.size()>, kMaxMcpServers + 1> mcp_calls{};
  std::array<SlotName, kMaxModels> models{};
  std::array<std::array<Counter, kCallKinds.size()>, kMaxModels + 1> model_calls{};
  std::array<std::array<Counter, kTokenKinds.size()>, kMaxModels + 1> model_tokens{};
  std::array<std::array<Counter, kCallKinds.size()>, kMaxModels + 1> model_cost_micros{};
  Counter db_pool_waits{0};
  Counter db_pool_wait_us{0};
  Counter db_pool_timeouts{0};
  std::array<Counter, kRestartReasons.size()> worker_restarts{};
};

// Indexes into the arrays above.
size_t route_index(std::string_view method, std::string_view pattern);
size_t status_index(long status);
size_t provider_index(std::string_view type);
// The metrics label of a provider index: its type, or "other".
std::string_view provider_label(size_t index);
// The index of `name` among `slots`, claiming a free one for a new name; slots.size() when
// they are full or the name is empty.
size_t slot_index(SlotName* slots, size_t size, std::string_view name);
inline size_t mcp_server_index(Counters& counters, std::string_view name) {
  return slot_index(counters.mcp_servers.data(), kMaxMcpServers, name);
}
inline size_t model_index(Counters& counters, std::string_view name) {
  return slot_index(counters.models.data(), kMaxModels, name);
}
// The name of slot `index` of `slots` (size `size`), or `fallback` for the last index; none
// while it is not named.
std::optional<std::string> slot_label(const SlotName* slots, size_t size, size_t index,
                                      std::string_view fallback);

}  // namespace chatd::metrics
