// The metrics as a worker sees them: the rendering of the counters (worker/counters.hpp) and the
// scoreboard's gauges for GET /metrics, and the observer through which a worker's handlers,
// replies, pool and tools feed them and the scoreboard.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "handlers/observer.hpp"
#include "llm/mcp_tools.hpp"
#include "llm/reply.hpp"
#include "worker/counters.hpp"
#include "worker/scoreboard.hpp"

namespace chatd::metrics {

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

  // Keeps the request of `scope` shown after its thread moves on (a response that went live),
  // until the answer is destroyed. Shows nothing when no record is free.
  std::shared_ptr<void> keep_shown(const Scope& scope);

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
  void model_call(std::string_view model, bool title, const llm::Usage& usage,
                  std::optional<long long> cost_micros) override;

 private:
  scoreboard::WorkerRecord* record() const;

  scoreboard::Scoreboard* board_;
  int slot_;
  unsigned threads_ = 0;
  std::mutex shown_mutex_;  // claims records past the threads'
};

}  // namespace chatd::metrics
