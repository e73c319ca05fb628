// One assistant reply: the step loop of API.md §4 POST steps 5-11, as a state machine on the
// worker's reply loop (DESIGN.md "reply loop"). Each step is one streamed model call relayed
// part by part; tool calls run between steps, off the loop; the reply ends with exactly one
// `d` (or one `3` on failure). Knows nothing of HTTP servers or SQL: parts go to a sink, tools
// to a ToolRunner, the title to a callback.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/event_loop.hpp"
#include "llm/data_stream.hpp"
#include "llm/http_client.hpp"
#include "llm/model.hpp"
#include "llm/provider.hpp"
#include "llm/reply_observer.hpp"
#include "llm/title.hpp"

namespace chatd::llm {

// Runs the model's tool calls (a later issue plugs MCP servers in here).
class ToolRunner {
 public:
  virtual ~ToolRunner() = default;
  virtual std::vector<ToolSpec> tools() const = 0;
  // One result per call, in order; a failure is {"error":"..."}. Calls of one step may run
  // concurrently. Runs on a thread of its own, never on the loop.
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
  // How often a reply looks at its surroundings without news from the provider: keep-alives,
  // interrupts (ReplyInputs::on_tick), the title.
  std::chrono::milliseconds tick_interval{250};
  // A reply whose parts reach this many bytes ends there, with finish reason "length" (0: no
  // limit). Parts are not split: the last one may pass it.
  uint64_t max_message_bytes = 0;
  OnDisconnect on_disconnect = OnDisconnect::kStop;
};

// What on_tick answers.
enum class TickVerdict {
  kGoOn,
  // An interrupt: the open step ends with `e`, the stream with `d`, both with finish reason
  // "stop".
  kStop,
  // The reply cannot be kept (its record was refused): the stream ends with a `3:` part
  // (kUnstorable) and the reply fails.
  kFail,
};
inline constexpr const char* kUnstorable = "The reply failed: it could not be stored.";

struct ReplyResult {
  nlohmann::json message;  // the assistant UI message as the client rebuilt it (maybe partial)
  FinishReason finish_reason = FinishReason::kStop;  // of the last step; kError on failure
  Usage usage;                                       // summed over the steps
  std::string error;                                 // the `3:` text when the reply failed
  bool reader_gone = false;
  // Stopped before its end: on_tick asked to (kStop), or its reader left under
  // on-disconnect = stop.
  bool interrupted = false;
};

struct ReplyInputs {
  const Provider& provider;
  Upstream& upstream;
  base::EventLoop& loop;
  ModelRequest request;  // messages: history + the new user message
  std::string message_id;
  std::string created_at;
  ToolRunner* tools = nullptr;
  std::optional<TitleJob> title;
  // Called often while the reply runs (every tick, and with each provider chunk); what it
  // answers decides whether the reply goes on. On the loop: it must not block.
  std::function<TickVerdict()> on_tick;
  ReplyOptions options;
  ReplyObserver* observer = nullptr;  // null: nothing counts
  // Once, after the last part: the result to store.
  std::function<void(ReplyResult)> on_end;
  // Once per model call a provider answered (HTTP 200), when it is over: its number among the
  // reply's answered calls (from 1) and the usage it reported (all of it, or as much as came
  // before the call was cut or stopped). On the loop.
  std::function<void(int number, const Usage&)> on_model_call;
  // Before each model call after the first (the first was allowed before the reply began):
  // calls `answer` on the loop, then or later, with "" to go on, or with the text of the `3:`
  // part that ends the reply there (a budget reached). Null: every call goes.
  std::function<void(std::function<void(std::string)> answer)> before_model_call;
};

// A reply running on `inputs.loop`; everything about it happens on that loop's thread.
class Reply {
 public:
  Reply(ReplyInputs inputs, PartSink& sink);
  ~Reply();  // abandons what still runs: its transfer, its timers, its tools' results
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;

  // Begins the first step. on_end comes later (never from inside start()).
  void start();
  // The sink caught up after behind(), or its reader went away: the reply goes on.
  void writable();
  // The model call whose answer is streaming now (its number, as on_model_call will give it,
  // and what its provider reported so far); none between calls and before a call's 200.
  struct CallInFlight {
    int number = 0;
    Usage usage;
  };
  std::optional<CallInFlight> call_in_flight() const;

  class Machine;

 private:
  std::unique_ptr<Machine> machine_;
};

}  // namespace chatd::llm
