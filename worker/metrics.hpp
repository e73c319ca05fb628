// The metrics: counters kept in the scoreboard's shared segment as fixed arrays of atomics
// (indexed by route, status code, provider, finish reason, …; latency histograms with fixed
// buckets), their Prometheus text rendering for GET /metrics, and the observer through which
// a worker's handlers, replies, pool and tools feed them and the scoreboard.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "handlers/observer.hpp"
#include "llm/finish_reason.hpp"
#include "llm/mcp_tools.hpp"
#include "llm/provider_registry.hpp"
#include "llm/reply.hpp"
#include "worker/scoreboard.hpp"

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

// The Prometheus text exposition format, version 0.0.4.
using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class PrometheusText {
 public:
  // "# HELP" and "# TYPE" lines of a metric family; its samples follow.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, uint64_t value);
  void sample(std::string_view name, Labels labels, int64_t value);
  void sample(std::string_view name, Labels labels, double value);
  // name_bucket{…,le="…"} (cumulative, ending with le="+Inf"), name_sum and name_count.
  // `counts` holds bounds.size() + 1 non-cumulative counts.
  void histogram(std::string_view name, Labels labels, std::span<const double> bounds,
                 std::span<const uint64_t> counts, double sum);
  const std::string& text() const { return text_; }

 private:
  void line(std::string_view name, Labels labels, std::string_view extra_name,
            std::string_view extra_value, std::string_view value);
  std::string text_;
};

// A label value or HELP text with \, " and newlines escaped as the format wants.
std::string escape_label_value(std::string_view value);
// Shortest text that reads back as the same double; +Inf, -Inf, NaN.
std::string format_value(double value);

// GET /metrics: the counters and the gauges read from the scoreboard.
std::string render(const scoreboard::Scoreboard& board);

// A worker's view of the scoreboard: the handlers' Observer and the replies' ReplyObserver,
// plus what worker_process.cpp reports (requests, pool waits, MCP calls, its state).
class WorkerObserver : public http::Observer, public llm::ReplyObserver {
 public:
  // `board` may be null (nothing is counted); `slot` is negative when the worker got none.
  WorkerObserver(scoreboard::Scoreboard* board, int slot);

  // What the request log line needs, gathered while the request runs.
  struct Notes {
    std::string chat_id;
    std::string model;
    std::optional<llm::FinishReason> finish_reason;  // none: no reply
    std::string reply_error;
    std::optional<long long> prompt_tokens;
    std::optional<long long> completion_tokens;
  };

  // The request running on the calling thread: its scoreboard record is busy from here to the
  // destructor, and the observer's calls on this thread land in its notes.
  class Scope {
   public:
    Scope(WorkerObserver& observer, unsigned thread, std::string_view request_id,
          std::string_view method);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Notes& notes() { return notes_; }

   private:
    friend class WorkerObserver;
    scoreboard::ThreadWriter writer_;
    Notes notes_;
    Scope* previous_;
  };

  // A request ended: counted under its route (none: unmatched) and status, with its duration.
  void request_done(std::string_view method, std::string_view route, int status,
                    std::chrono::microseconds duration);
  // This process is the worker of its slot, with this many request threads.
  void worker_started(unsigned threads);
  void set_state(scoreboard::WorkerState state);
  // sql::Pool::WaitObserver and llm::McpToolRunner::CallObserver.
  void pool_wait(std::chrono::microseconds waited, bool timed_out);
  void mcp_call(const std::string& server, llm::McpToolRunner::CallOutcome outcome);

  // http::Observer
  void on_route(std::string_view method, std::string_view pattern) override;
  void on_user(std::string_view user_id) override;
  void on_chat(std::string_view chat_id) override;
  void on_model(std::string_view model) override;
  llm::ReplyObserver* replies() override { return board_ ? this : nullptr; }
  std::string metrics_text() override;
  nlohmann::ordered_json status_json() override;

  // llm::ReplyObserver
  void reply_started() override;
  void reply_finished(const llm::ReplyResult* result) override;
  void part(char code) override;
  void upstream_call(std::string_view provider, long status, llm::UpstreamFailure failure) override;
  void upstream_retry(std::string_view provider) override;

 private:
  scoreboard::WorkerRecord* record() const;

  scoreboard::Scoreboard* board_;
  int slot_;
};

}  // namespace chatd::metrics
