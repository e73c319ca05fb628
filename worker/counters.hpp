// The metrics counters: fixed arrays of atomics indexed by route, status code, provider, finish
// reason, …, and latency histograms with fixed buckets. They live in the scoreboard's shared
// segment (worker/scoreboard.hpp), so every worker adds to the same ones.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
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

struct McpServerName {
  std::atomic<uint32_t> state{0};  // 0 free, 1 being claimed, 2 named
  scoreboard::AtomicText<48> name;
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
  std::array<McpServerName, kMaxMcpServers> mcp_servers{};
  std::array<std::array<Counter, kMcpResults.size()>, kMaxMcpServers + 1> mcp_calls{};
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
// The server's index, claiming a free one for a new name; kMaxMcpServers when full or empty.
size_t mcp_server_index(Counters& counters, std::string_view name);

}  // namespace chatd::metrics
