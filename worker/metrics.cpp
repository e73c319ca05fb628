#include "worker/metrics.hpp"

#include <unistd.h>

#include <algorithm>

#include "handlers/routes.hpp"
#include "worker/prometheus_text.hpp"

namespace chatd::metrics {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

void add(Counter& counter, uint64_t n = 1) { counter.fetch_add(n, kRelaxed); }

// The request on this thread (see WorkerObserver::Scope).
thread_local WorkerObserver::Scope* t_current = nullptr;

}  // namespace

// --- GET /metrics ----------------------------------------------------------------------------

std::string render(const scoreboard::Scoreboard& board) {
  const Counters& c = board.counters();
  auto load = [](const Counter& counter) { return counter.load(kRelaxed); };
  auto routes = http::routes();
  auto route_labels = [&](size_t i) -> std::pair<std::string_view, std::string_view> {
    if (i == kUnmatchedRoute || i >= routes.size()) return {"", "unmatched"};
    return {routes[i].method, routes[i].pattern};
  };
  PrometheusText out;

  out.family("chatd_http_requests_total", "counter",
             "HTTP requests answered, by route (the pattern of the route table) and status.");
  for (size_t r = 0; r < kMaxRoutes; ++r) {
    auto [method, route] = route_labels(r);
    for (size_t s = 0; s < kStatusCodes; ++s) {
      uint64_t n = load(c.http_requests[r][s]);
      if (n == 0) continue;
      std::string status = std::to_string(s);
      if (method.empty())
        out.sample("chatd_http_requests_total", {{"route", route}, {"status", status}}, n);
      else
        out.sample("chatd_http_requests_total",
                   {{"method", method}, {"route", route}, {"status", status}}, n);
    }
  }

  out.family("chatd_http_request_duration_seconds", "histogram",
             "Time from reading a request to its last byte, by route (streamed replies "
             "included).");
  for (size_t r = 0; r < kMaxRoutes; ++r) {
    std::array<uint64_t, kLatencyBounds.size() + 1> counts;
    uint64_t total = 0;
    for (size_t b = 0; b < counts.size(); ++b)
      total += counts[b] = load(c.http_duration[r].buckets[b]);
    if (total == 0) continue;
    double sum = static_cast<double>(load(c.http_duration[r].sum_us)) / 1e6;
    auto [method, route] = route_labels(r);
    if (method.empty())
      out.histogram("chatd_http_request_duration_seconds", {{"route", route}}, kLatencyBounds,
                    counts, sum);
    else
      out.histogram("chatd_http_request_duration_seconds", {{"method", method}, {"route", route}},
                    kLatencyBounds, counts, sum);
  }

  auto workers = board.workers();
  uint64_t in_flight = 0, busy = 0, idle = 0;
  int64_t replies_running = 0;
  std::array<int64_t, 4> by_state{};
  for (const auto& w : workers) {
    in_flight += w.current.size();  // on a thread, or on the reply loop
    busy += w.busy;
    idle += w.threads - w.busy;
    replies_running += w.replies_running;
    by_state[static_cast<size_t>(w.state) % by_state.size()]++;
  }

  out.family("chatd_http_requests_in_flight", "gauge", "Requests being handled now.");
  out.sample("chatd_http_requests_in_flight", {}, in_flight);

  out.family("chatd_replies_running", "gauge", "Replies being generated now.");
  out.sample("chatd_replies_running", {}, replies_running);

  out.family("chatd_replies_total", "counter", "Replies ended, by finish reason.");
  for (llm::FinishReason reason : llm::kAllFinishReasons)
    out.sample("chatd_replies_total", {{"finish_reason", llm::wire_name(reason)}},
               load(c.replies[static_cast<size_t>(reason)]));

  out.family("chatd_reply_parts_total", "counter",
             "Data stream parts sent by replies (keep-alive lines not included).");
  out.sample("chatd_reply_parts_total", {}, load(c.reply_parts));

  out.family("chatd_reply_tokens_total", "counter",
             "Tokens the providers reported for replies, by kind.");
  out.sample("chatd_reply_tokens_total", {{"kind", "prompt"}}, load(c.reply_tokens[0]));
  out.sample("chatd_reply_tokens_total", {{"kind", "completion"}}, load(c.reply_tokens[1]));

  out.family("chatd_upstream_requests_total", "counter",
             "HTTP calls to model providers, by provider type and status (0: no response).");
  for (size_t p = 0; p < kProviderSlots; ++p)
    for (size_t s = 0; s < kStatusCodes; ++s)
      if (uint64_t n = load(c.upstream_requests[p][s]); n > 0)
        out.sample("chatd_upstream_requests_total",
                   {{"provider", provider_label(p)}, {"status", std::to_string(s)}}, n);

  out.family("chatd_upstream_errors_total", "counter",
             "Failed calls to model providers, by provider type and kind: status (an HTTP "
             "error), connect (no response), stalled, dropped (stream cut), stream (an error "
             "inside the stream).");
  for (size_t p = 0; p < kProviderSlots; ++p)
    for (size_t k = 0; k < kUpstreamFailures.size(); ++k)
      if (uint64_t n = load(c.upstream_errors[p][k]); n > 0)
        out.sample("chatd_upstream_errors_total",
                   {{"provider", provider_label(p)}, {"kind", kUpstreamFailures[k]}}, n);

  out.family("chatd_upstream_retries_total", "counter",
             "Calls to model providers tried again after a retryable failure.");
  for (size_t p = 0; p < kProviderSlots; ++p)
    if (uint64_t n = load(c.upstream_retries[p]); n > 0)
      out.sample("chatd_upstream_retries_total", {{"provider", provider_label(p)}}, n);

  out.family("chatd_mcp_calls_total", "counter",
             "Tool calls to MCP servers, by server and result (ok, tool_error: the tool "
             "answered isError, failed: the model got an error).");
  for (size_t i = 0; i <= kMaxMcpServers; ++i) {
    auto name = slot_label(c.mcp_servers.data(), kMaxMcpServers, i, "unknown");
    if (!name) continue;
    for (size_t r = 0; r < kMcpResults.size(); ++r)
      if (uint64_t n = load(c.mcp_calls[i][r]); n > 0)
        out.sample("chatd_mcp_calls_total", {{"server", *name}, {"result", kMcpResults[r]}}, n);
  }

  // The usage ledger's figures (API.md §9) as they were recorded, by model.
  out.family("chatd_model_calls_total", "counter",
             "Model calls a provider answered, by model and call (step of a reply, or title).");
  out.family("chatd_model_tokens_total", "counter",
             "Tokens the providers reported for model calls, by model and kind (input: read "
             "from no cache; output includes reasoning).");
  out.family("chatd_model_cost_dollars_total", "counter",
             "What model calls cost at the configured prices (model-price), by model and call; "
             "calls of unpriced models are not in it.");
  for (size_t m = 0; m <= kMaxModels; ++m) {
    auto model = slot_label(c.models.data(), kMaxModels, m, "other");
    if (!model) continue;
    for (size_t k = 0; k < kCallKinds.size(); ++k) {
      if (uint64_t n = load(c.model_calls[m][k]); n > 0)
        out.sample("chatd_model_calls_total", {{"model", *model}, {"call", kCallKinds[k]}}, n);
      if (uint64_t micros = load(c.model_cost_micros[m][k]); micros > 0)
        out.sample("chatd_model_cost_dollars_total", {{"model", *model}, {"call", kCallKinds[k]}},
                   static_cast<double>(micros) / 1e6);
    }
    for (size_t k = 0; k < kTokenKinds.size(); ++k)
      if (uint64_t n = load(c.model_tokens[m][k]); n > 0)
        out.sample("chatd_model_tokens_total", {{"model", *model}, {"kind", kTokenKinds[k]}}, n);
  }

  out.family("chatd_db_pool_waits_total", "counter",
             "Database connection requests that had to wait for a free connection.");
  out.sample("chatd_db_pool_waits_total", {}, load(c.db_pool_waits));
  out.family("chatd_db_pool_wait_seconds_total", "counter",
             "Time spent waiting for a free database connection.");
  out.sample("chatd_db_pool_wait_seconds_total", {},
             static_cast<double>(load(c.db_pool_wait_us)) / 1e6);
  out.family("chatd_db_pool_timeouts_total", "counter",
             "Waits for a database connection that gave up (the request got a 503).");
  out.sample("chatd_db_pool_timeouts_total", {}, load(c.db_pool_timeouts));

  out.family("chatd_worker_restarts_total", "counter",
             "Workers the master started again, by reason: crash (died unexpectedly) or "
             "recycle (--max-requests reached).");
  for (size_t i = 0; i < kRestartReasons.size(); ++i)
    out.sample("chatd_worker_restarts_total", {{"reason", kRestartReasons[i]}},
               load(c.worker_restarts[i]));

  out.family("chatd_workers", "gauge", "Worker processes, by state.");
  for (auto state : {scoreboard::WorkerState::kStarting, scoreboard::WorkerState::kReady,
                     scoreboard::WorkerState::kDraining})
    out.sample("chatd_workers", {{"state", scoreboard::state_name(state)}},
               by_state[static_cast<size_t>(state)]);

  out.family("chatd_worker_threads", "gauge", "Request threads of the workers, by state.");
  out.sample("chatd_worker_threads", {{"state", "busy"}}, busy);
  out.sample("chatd_worker_threads", {{"state", "idle"}}, idle);

  out.family("chatd_start_time_seconds", "gauge",
             "When the master started (Unix time); the counters count from then.");
  out.sample("chatd_start_time_seconds", {}, static_cast<double>(board.started_unix_ms()) / 1e3);
  return out.text();
}

// --- WorkerObserver --------------------------------------------------------------------------

WorkerObserver::WorkerObserver(scoreboard::Scoreboard* board, int slot)
    : board_(board),
      slot_(board && slot >= 0 && static_cast<unsigned>(slot) < board->worker_slots() ? slot : -1) {
}

scoreboard::WorkerRecord* WorkerObserver::record() const {
  return slot_ >= 0 ? &board_->worker(static_cast<unsigned>(slot_)) : nullptr;
}

WorkerObserver::Scope::Scope(WorkerObserver& observer, unsigned thread, std::string_view request_id,
                             std::string_view method)
    : writer_(observer.slot_ >= 0
                  ? observer.board_->thread(static_cast<unsigned>(observer.slot_), thread)
                  : nullptr),
      previous_(t_current) {
  writer_.begin(request_id, method);
  t_current = this;
}

WorkerObserver::Scope::~Scope() {
  writer_.end();
  t_current = previous_;
}

void WorkerObserver::request_done(std::string_view method, std::string_view route, int status,
                                  std::chrono::microseconds duration) {
  if (!board_) return;
  size_t r = route.empty() ? kUnmatchedRoute : route_index(method, route);
  auto& c = board_->counters();
  add(c.http_requests[r][status_index(status)]);
  c.http_duration[r].observe(duration);
  if (auto* w = record()) add(w->requests);
}

std::shared_ptr<void> WorkerObserver::keep_shown(const Scope& scope) {
  if (slot_ < 0 || !scope.writer_.busy()) return nullptr;
  auto slot = static_cast<unsigned>(slot_);
  std::lock_guard lock(shown_mutex_);
  for (unsigned t = threads_; t < board_->thread_capacity(); ++t) {
    auto* record = board_->thread(slot, t);
    if (!record || record->started_mono_ns.load(std::memory_order_relaxed) != 0) continue;
    auto writer = std::make_shared<scoreboard::ThreadWriter>(record);
    writer->begin_as(*scope.writer_.record());
    return std::shared_ptr<void>(writer.get(), [this, writer](void*) {
      std::lock_guard lock(shown_mutex_);
      writer->end();
    });
  }
  return nullptr;
}

void WorkerObserver::worker_started(unsigned threads) {
  threads_ = threads;
  auto* w = record();
  if (!w) return;
  w->pid.store(::getpid(), kRelaxed);
  w->threads.store(std::min(threads, board_->thread_capacity()), kRelaxed);
}

void WorkerObserver::set_state(scoreboard::WorkerState state) {
  if (auto* w = record()) w->state.store(static_cast<uint32_t>(state), std::memory_order_release);
}

void WorkerObserver::pool_wait(std::chrono::microseconds waited, bool timed_out) {
  if (!board_) return;
  auto& c = board_->counters();
  add(c.db_pool_waits);
  add(c.db_pool_wait_us, static_cast<uint64_t>(std::max<int64_t>(0, waited.count())));
  if (timed_out) add(c.db_pool_timeouts);
}

void WorkerObserver::mcp_call(const std::string& server, llm::McpToolRunner::CallOutcome outcome) {
  if (!board_) return;
  auto& c = board_->counters();
  size_t result = outcome == llm::McpToolRunner::CallOutcome::kOk          ? 0
                  : outcome == llm::McpToolRunner::CallOutcome::kToolError ? 1
                                                                           : 2;
  add(c.mcp_calls[mcp_server_index(c, server)][result]);
}

void WorkerObserver::on_route(std::string_view method, std::string_view pattern) {
  if (t_current) t_current->writer_.set_route(method, pattern);
}

void WorkerObserver::on_user(std::string_view user_id) {
  if (t_current) t_current->writer_.set_user(user_id);
}

void WorkerObserver::on_chat(std::string_view chat_id) {
  if (!t_current) return;
  t_current->writer_.set_chat(chat_id);
  t_current->notes_.chat_id = chat_id;
}

void WorkerObserver::on_model(std::string_view model) {
  if (!t_current) return;
  t_current->writer_.set_model(model);
  t_current->notes_.model = model;
}

std::string WorkerObserver::metrics_text() { return board_ ? render(*board_) : std::string(); }

nlohmann::ordered_json WorkerObserver::status_json() {
  return board_ ? board_->status_json() : nlohmann::ordered_json::object();
}

void WorkerObserver::reply_started() {
  if (auto* w = record()) w->replies_running.fetch_add(1, kRelaxed);
}

void WorkerObserver::reply_finished(const llm::ReplyResult* result) {
  if (auto* w = record()) w->replies_running.fetch_sub(1, kRelaxed);
  if (!board_) return;
  auto& c = board_->counters();
  add(c.replies[static_cast<size_t>(result ? result->finish_reason : llm::FinishReason::kError)]);
  if (!result) return;
  if (result->usage.prompt_tokens)
    add(c.reply_tokens[0], static_cast<uint64_t>(std::max(0LL, *result->usage.prompt_tokens)));
  if (result->usage.completion_tokens)
    add(c.reply_tokens[1], static_cast<uint64_t>(std::max(0LL, *result->usage.completion_tokens)));
}

void WorkerObserver::part(char) {
  if (board_) add(board_->counters().reply_parts);
}

void WorkerObserver::upstream_call(std::string_view provider, long status,
                                   llm::UpstreamFailure failure) {
  if (!board_) return;
  auto& c = board_->counters();
  size_t p = provider_index(provider);
  add(c.upstream_requests[p][status_index(status)]);
  if (failure != llm::UpstreamFailure::kNone)
    add(c.upstream_errors[p][static_cast<size_t>(failure) - 1]);
}

void WorkerObserver::model_call(std::string_view model, bool title, const llm::Usage& usage,
                                std::optional<long long> cost_micros) {
  if (!board_) return;
  auto& c = board_->counters();
  size_t m = model_index(c, model);
  size_t call = title ? 1 : 0;
  add(c.model_calls[m][call]);
  const std::optional<long long> tokens[] = {usage.uncached_input(), usage.completion_tokens,
                                             usage.cache_read_tokens, usage.cache_write_tokens,
                                             usage.reasoning_tokens};
  for (size_t k = 0; k < kTokenKinds.size(); ++k)
    if (tokens[k] && *tokens[k] > 0) add(c.model_tokens[m][k], static_cast<uint64_t>(*tokens[k]));
  if (cost_micros && *cost_micros > 0)
    add(c.model_cost_micros[m][call], static_cast<uint64_t>(*cost_micros));
}

void WorkerObserver::upstream_retry(std::string_view provider) {
  if (board_) add(board_->counters().upstream_retries[provider_index(provider)]);
}

}  // namespace chatd::metrics
