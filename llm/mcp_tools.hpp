// The tools of the configured MCP servers, offered to the model (API.md §5): one merged tool
// list, fetched at start and refreshed on a TTL, with names that cannot collide across servers
// and fit every provider's rules; a step's calls run concurrently and come back as the MCP
// result JSON, or {"error":"…"}.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "llm/mcp_client.hpp"
#include "llm/reply.hpp"

namespace chatd::llm {

// The longest tool name every provider accepts (^[a-zA-Z0-9_-]{1,64}$).
inline constexpr std::size_t kMaxToolNameLength = 64;

// Characters outside [a-zA-Z0-9_-] become '_'.
std::string mcp_sanitize_name(std::string_view name);

// The names the model sees for (server, tool) pairs, one per pair, in order: `<server>__<tool>`
// sanitized, starting with a letter or '_' (Gemini's rule), at most 64 characters, all
// distinct. A name that had to be cut, or that collides with another, gets an 8-hex-digit hash
// of its original pair as a suffix; names that needed no change win over changed ones.
// Deterministic: the same pairs give the same names in every worker.
std::vector<std::string> mcp_expose_names(
    const std::vector<std::pair<std::string, std::string>>& server_tool);

// The JSON the model gets for a tools/call result: the MCP result shape
// {"content": [...], "structuredContent": {...}?, "isError": true?}.
nlohmann::json mcp_result_json(const McpCallResult& result);

// A result whose compact JSON is longer than max_bytes, cut to fit: structuredContent dropped
// when it is large (it is also in the content by the spec's advice; when the content is
// empty it becomes a text item), text items cut at a UTF-8 boundary, other large items
// dropped, and {"type":"text","text":"[truncated: N bytes omitted]"} appended, N being the
// bytes of JSON removed. Results within the limit are returned as they are.
nlohmann::json mcp_truncate_result(nlohmann::json result, std::size_t max_bytes);

class McpToolRunner : public ToolRunner {
 public:
  static constexpr std::chrono::milliseconds kDefaultTtl{5 * 60 * 1000};
  static constexpr std::size_t kDefaultMaxResultBytes = 64 * 1024;
  // A server that was down is tried again after this long (or the TTL, if shorter).
  static constexpr std::chrono::milliseconds kDownRetry{30 * 1000};
  static constexpr std::chrono::milliseconds kFirstListWait{2 * 1000};

  // `on_problem` gets one line when a server goes down (its tools are skipped until it
  // answers again) and when it is back; it must not throw and is called from any thread.
  // Throws std::invalid_argument for a malformed header line (see McpClient).
  McpToolRunner(std::vector<McpServerConfig> servers,
                std::function<void(const std::string&)> on_problem,
                std::chrono::milliseconds ttl = kDefaultTtl,
                std::size_t max_result_bytes = kDefaultMaxResultBytes);
  // Aborts a background refresh in flight and waits for it.
  ~McpToolRunner() override;
  McpToolRunner(const McpToolRunner&) = delete;
  McpToolRunner& operator=(const McpToolRunner&) = delete;

  // Fetches every server's tool list now (the servers in parallel) and publishes the merged
  // list. Never throws for a server that is down. The first fetch publishes each server's
  // tools as soon as that server answered.
  void refresh();
  // The same on a thread the runner owns (joined, and its exchanges aborted, by the
  // destructor); returns at once. Does nothing while a refresh started this way runs.
  void refresh_async() const;
  // The current merged list; never waits on the servers for long. Before the first list is
  // there, it starts a fetch if none runs and waits at most kFirstListWait for the first
  // server to answer (an empty list after that). Later, a list older than the TTL is
  // refreshed in the background while callers keep getting the old one.
  std::vector<ToolSpec> tools() const override;
  // One result per call, in order, the calls running concurrently (a step takes about as
  // long as its slowest call). Names are looked up in the list tools() last published.
  std::vector<nlohmann::json> run(const std::vector<ToolCallDone>& calls) override;

  std::size_t server_count() const { return clients_.size(); }

  // How one tool call ended, for the metrics: answered, answered with isError, or failed (the
  // model got {"error":…}; `server` is empty when no server has a tool of that name).
  enum class CallOutcome { kOk, kToolError, kFailed };
  using CallObserver = std::function<void(const std::string& server, CallOutcome outcome)>;
  // Set before the first run(); called from the threads that run the calls; must not throw.
  void set_call_observer(CallObserver observer) { call_observer_ = std::move(observer); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Target {
    std::size_t server;
    std::string tool;
  };
  struct Catalog {
    std::vector<ToolSpec> specs;
    std::unordered_map<std::string, Target> targets;  // exposed name -> (server, tool)
    Clock::time_point fetched;
    bool complete = true;  // every server answered
  };

  using Lists = std::vector<std::optional<std::vector<McpTool>>>;  // per server; none: down

  std::shared_ptr<const Catalog> catalog() const;
  void publish(std::shared_ptr<const Catalog> next) const;
  std::shared_ptr<Catalog> build(const Lists& lists) const;
  void refresh_locked() const;
  nlohmann::json run_one(const Catalog& catalog, const ToolCallDone& call) const;
  void report(const std::string& line) const;

  std::vector<std::unique_ptr<McpClient>> clients_;
  std::function<void(const std::string&)> on_problem_;
  CallObserver call_observer_;
  std::chrono::milliseconds ttl_;
  std::size_t max_result_bytes_;

  mutable std::mutex mutex_;  // guards catalog_
  mutable std::condition_variable published_;
  mutable std::shared_ptr<const Catalog> catalog_;

  mutable std::mutex refresh_mutex_;       // one refresh at a time; guards down_
  mutable std::vector<std::string> down_;  // per server: why it was down at the last refresh

  mutable std::mutex background_mutex_;  // guards background_
  mutable std::thread background_;
  mutable std::atomic<bool> refreshing_{false};
  std::atomic<bool> stopping_{false};  // destructing: no more reports
};

}  // namespace chatd::llm
