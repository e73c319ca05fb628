// One assistant reply: the step loop of API.md §4 POST steps 5-11. Each step is one streamed
// model call relayed part by part; tool calls run between steps; the reply ends with exactly
// one `d` (or one `3` on failure). Knows nothing of HTTP servers or SQL: parts go to a sink,
// tools to a ToolRunner, the title to a callback.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/data_stream.hpp"
#include "llm/model.hpp"
#include "llm/provider.hpp"
#include "llm/transport.hpp"

namespace chatd::llm {

// Runs the model's tool calls (a later issue plugs MCP servers in here).
class ToolRunner {
 public:
  virtual ~ToolRunner() = default;
  virtual std::vector<ToolSpec> tools() const = 0;
  // One result per call, in order; a failure is {"error":"..."}. Calls of one step may run
  // concurrently.
  virtual std::vector<nlohmann::json> run(const std::vector<ToolCallDone>& calls) = 0;
};

// What to do when the reader of the stream goes away. The one place this policy lives.
enum class OnDisconnect { kStop, kContinue };

struct ReplyOptions {
  int max_steps = 10;
  int max_attempts = 3;  // per step, only while nothing of the step was sent
  std::chrono::milliseconds max_retry_wait{20'000};
  std::chrono::milliseconds keepalive_interval{15'000};
  std::chrono::milliseconds title_wait{30'000};  // at the end, for a title still coming
  OnDisconnect on_disconnect = OnDisconnect::kStop;
};

struct ReplyResult {
  nlohmann::json message;  // the assistant UI message as the client rebuilt it (maybe partial)
  FinishReason finish_reason = FinishReason::kStop;  // of the last step; kError on failure
  Usage usage;                                       // summed over the steps
  std::string error;                                 // the `3:` text when the reply failed
  bool reader_gone = false;
  bool interrupted = false;  // on_tick asked to stop
};

// How one call to a provider ended, for the metrics.
enum class UpstreamFailure {
  kNone,     // answered (200, streamed to its end), or stopped by us
  kStatus,   // an HTTP error status
  kConnect,  // no HTTP response (cannot connect, reset, timeout)
  kStalled,  // silent for longer than the idle timeout
  kDropped,  // the stream was cut or ended without its finish
  kStream,   // the provider reported an error inside the stream
};

// Counts what replies do; worker/ implements it over counters shared by every worker. The
// methods must be cheap and must not throw; upstream_call may come from another thread (the
// title runs on its own).
class ReplyObserver {
 public:
  virtual ~ReplyObserver() = default;
  virtual void reply_started() {}
  // `result` is null when the reply ended with an exception.
  virtual void reply_finished(const ReplyResult* /*result*/) {}
  // One part sent to the stream (keep-alives are not parts).
  virtual void part(char /*code*/) {}
  // One HTTP call to a provider (`provider` is its type); `status` is 0 without a response.
  virtual void upstream_call(std::string_view /*provider*/, long /*status*/, UpstreamFailure) {}
  // A failed call is tried again.
  virtual void upstream_retry(std::string_view /*provider*/) {}
};

// A title being generated alongside the reply.
struct TitleJob {
  std::shared_future<std::string> title;
  std::string fallback;                           // used when the job fails or takes too long
  std::function<void(const std::string&)> store;  // called once, before the reply ends
};

struct ReplyInputs {
  const Provider& provider;
  const Transport& transport;
  ModelRequest request;  // messages: history + the new user message
  std::string message_id;
  std::string created_at;
  ToolRunner* tools = nullptr;
  std::optional<TitleJob> title;
  // Called often while the reply runs (every few hundred ms, and with each provider chunk)
  // with the message so far; returning false stops the reply (an interrupt): the open step
  // ends with `e`, the stream with `d`, both with finish reason "stop".
  std::function<bool(const MessageBuilder&)> on_tick;
  ReplyOptions options;
  ReplyObserver* observer = nullptr;  // null: nothing counts
};

ReplyResult run_reply(ReplyInputs inputs, PartSink& sink);

// Starts generating a chat title from the first user message with the same model, on its own
// thread; the future yields the cleaned title or throws.
std::shared_future<std::string> start_title(const Provider& provider, const Transport& transport,
                                            std::string model, nlohmann::json user_message,
                                            ReplyObserver* observer = nullptr);

// The title rules of API.md §4: at most 40 characters, no quotes, colons or emoji, one line.
std::string clean_title(std::string_view raw);

}  // namespace chatd::llm
