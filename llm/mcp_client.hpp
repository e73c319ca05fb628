// A Model Context Protocol client for one server over the streamable HTTP transport, protocol
// revision 2025-06-18 (2025-03-26 accepted when the server negotiates it): initialize, then
// notifications/initialized, tools/list and tools/call. Responses come as plain JSON or as an
// SSE stream; notifications and server requests in a stream are skipped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "llm/sse_parser.hpp"

namespace chatd::llm {

struct McpServerConfig {
  std::string name;  // unique among the servers; prefixes its tools' names for the model
  std::string url;   // the MCP endpoint, e.g. http://127.0.0.1:3001/mcp
  // "Name: value" lines sent with every request (e.g. "Authorization: Bearer …"). Secrets:
  // never logged, never in an error message.
  std::vector<std::string> headers;
  // One request (initialize, one tools/list page, one tools/call), a re-initialization
  // included.
  std::chrono::milliseconds timeout{30000};
  std::vector<std::string> allowed_tools;  // empty: all
};

struct McpTool {
  std::string name;
  std::string description;
  nlohmann::json input_schema;  // a JSON Schema object, as the server sent it
};

// A tools/call result. A tool that failed on its own terms has is_error set (its content says
// why); protocol and transport failures throw McpError instead.
struct McpCallResult {
  nlohmann::json content = nlohmann::json::array();
  nlohmann::json structured;  // structuredContent; null when absent
  bool is_error = false;
};

// Short, safe to log and to show a model: starts with the server's name, never carries a
// configured header value.
class McpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The revision we ask for, and whether we can speak a revision a server answers with.
inline constexpr std::string_view kMcpProtocolVersion = "2025-06-18";
bool mcp_supported_version(std::string_view version);

// Finds the JSON-RPC response to one request in a POST's response body, fed in any split:
// a JSON body (an object, or a batch array) or an SSE stream, where notifications, server
// requests and responses to other ids are skipped.
class McpResponseReader {
 public:
  // Largest plain JSON body kept (an SSE event is capped by SseParser).
  static constexpr std::size_t kMaxJsonBytes = std::size_t{16} << 20;

  McpResponseReader(nlohmann::json id, bool sse) : id_(std::move(id)), sse_(sse) {}
  // Returns true when reading can stop: the response was found, or the body is too large.
  bool feed(std::string_view bytes);
  // The body ended.
  void finish();
  const std::optional<nlohmann::json>& response() const { return response_; }
  bool too_large() const { return too_large_; }

 private:
  void consider(const nlohmann::json& message);

  nlohmann::json id_;
  bool sse_;
  SseParser parser_;
  std::vector<SseEvent> events_;
  std::string json_;
  std::optional<nlohmann::json> response_;
  bool too_large_ = false;
};

// One per configured server, shared by all request threads. Each HTTP exchange runs on the
// calling thread with that thread's own curl handle; the session (id, negotiated revision) is
// shared and guarded. Initialization is lazy; a session the server forgot is re-initialized
// once and the request retried.
class McpClient {
 public:
  // Throws std::invalid_argument for a malformed header line or one that would override the
  // transport's own headers (Accept, Content-Type, Mcp-Session-Id, MCP-Protocol-Version).
  explicit McpClient(McpServerConfig config);
  McpClient(const McpClient&) = delete;
  McpClient& operator=(const McpClient&) = delete;

  const McpServerConfig& config() const { return config_; }

  // All pages of tools/list, filtered by the allow-list. Tools that can only run as tasks
  // (execution.taskSupport "required") are left out: this client does not speak tasks.
  std::vector<McpTool> list_tools();
  // tools/call. `meta` (optional) becomes params._meta, e.g. {"progressToken": 1}.
  McpCallResult call_tool(const std::string& name, const nlohmann::json& arguments,
                          const nlohmann::json& meta = nullptr);

  // The negotiated revision and the server's serverInfo; empty/null before initialization.
  std::string protocol_version() const;
  nlohmann::json server_info() const;

  // Ends the session on the server (DELETE), best effort; the next request initializes anew.
  void close();
  // Aborts exchanges in flight and fails all later ones (shutdown).
  void cancel() { cancelled_ = true; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Session {
    std::string id;       // empty: the server does not use sessions
    std::string version;  // negotiated revision
    std::uint64_t generation = 0;
  };

  // One request with its own deadline; re-initializes once when the session was lost. On a
  // timeout with `cancel_reason`, the server is sent notifications/cancelled.
  nlohmann::json request(const std::string& method, nlohmann::json params,
                         const nlohmann::json* cancel_reason = nullptr);
  Session ensure_session(Clock::time_point deadline);
  Session initialize(Clock::time_point deadline);
  void forget_session(std::uint64_t generation);
  std::vector<std::string> headers_for(const Session* session) const;
  [[noreturn]] void fail(const std::string& what) const;
  std::string redact(std::string text) const;

  const McpServerConfig config_;
  std::vector<std::string> secrets_;  // configured header values, for redact()
  std::atomic<std::int64_t> next_id_{1};
  std::atomic<bool> cancelled_{false};

  std::timed_mutex init_mutex_;  // one initialization at a time
  mutable std::mutex mutex_;     // guards the fields below
  bool initialized_ = false;
  Session session_;
  nlohmann::json server_info_;
  std::uint64_t generation_ = 0;
};

}  // namespace chatd::llm
