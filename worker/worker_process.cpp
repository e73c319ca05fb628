#include "worker/worker_process.hpp"

#include <curl/curl.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "base/in_flight.hpp"
#include "handlers/error.hpp"
#include "handlers/replies.hpp"
#include "handlers/reply_store_thread.hpp"
#include "handlers/routes.hpp"
#include "llm/http_client.hpp"
#include "llm/mcp_tools.hpp"
#include "sql/channels.hpp"
#include "sql/error_text.hpp"
#include "sql/listener.hpp"
#include "sql/pool.hpp"
#include "sql/store.hpp"
#include "worker/fcgi_io.hpp"
#include "worker/log.hpp"
#include "worker/metrics.hpp"

// A sanitizer build (CHATD_SANITIZE) checks for leaks when a process exits, but a worker ends
// with _exit, which skips that: run_worker runs the check itself.
#if defined(__SANITIZE_ADDRESS__)
#define CHATD_LEAK_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHATD_LEAK_CHECK 1
#endif
#endif
#ifdef CHATD_LEAK_CHECK
#include <sanitizer/lsan_interface.h>
#endif

namespace chatd {

namespace {

using Clock = std::chrono::steady_clock;

// Archived chats past their retention go this many per statement.
constexpr int kExpireBatch = 500;

// Blocked in every thread of a worker; the main thread takes them with sigtimedwait.
sigset_t control_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&set, s);
  return set;
}

llm::ModelCatalog load_models(const WorkerSetup& setup, const llm::Transport& transport) {
  std::vector<std::string> problems;
  auto catalog = llm::ModelCatalog::build(setup.providers, transport, problems);
  for (const auto& problem : problems) log::error("provider unavailable", {{"error", problem}});
  return catalog;
}

sql::RateLimit rate_limit(const config::Serve& serve) {
  if (serve.rate_limit <= 0) return {};
  return {1.0 / serve.rate_limit, static_cast<double>(serve.rate_burst)};
}

http::ReplySettings reply_settings(const config::Serve& serve) {
  http::ReplySettings settings;
  settings.system_prompt = serve.system_prompt;
  settings.default_model = serve.default_model;
  settings.options.max_steps = serve.max_steps;
  settings.max_replies_per_user = serve.max_replies_per_user;
  settings.max_readers_per_reply = serve.max_readers_per_reply;
  settings.max_history_messages = serve.max_history_messages;
  settings.max_history_bytes = serve.max_history_bytes;
  settings.max_message_bytes = serve.max_message_size;
  settings.max_chat_bytes = serve.max_chat_size;
  settings.options.max_message_bytes = serve.max_message_size;
  settings.options.keepalive_interval = serve.stream_keepalive;
  settings.options.on_disconnect =
      serve.on_disconnect == "stop" ? llm::OnDisconnect::kStop : llm::OnDisconnect::kContinue;
  settings.prices = serve.prices;
  settings.budget = serve.budget;
  settings.max_file_bytes = serve.max_file_size;
  settings.max_file_storage_bytes = serve.max_file_storage_per_user;
  return settings;
}

// The MCP servers' tools; the first fetch runs in the background, so that a server that is
// down never delays the worker.
std::unique_ptr<llm::McpToolRunner> load_tools(const WorkerSetup& setup) {
  if (setup.mcp_servers.empty()) return nullptr;
  auto runner = std::make_unique<llm::McpToolRunner>(
      setup.mcp_servers,
      [](const std::string& problem) {
        log::warn("mcp", {{"event", problem}});
      },
      setup.serve.mcp_refresh, setup.serve.tool_result_limit);
  runner->refresh_async();
  return runner;
}

// The request's id: the X-Request-Id it came with (nginx's, or the client's) when that is sane,
// else 16 new hex digits.
std::string request_id(const http::Request& request) {
  if (const std::string* given = request.header("x-request-id");
      given && !given->empty() && given->size() <= 64 &&
      std::all_of(given->begin(), given->end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-';
      }))
    return *given;
  thread_local std::mt19937_64 random((uint64_t{std::random_device{}()} << 32) ^
                                      std::random_device{}() ^ (uint64_t(::getpid()) << 16) ^
                                      std::hash<std::thread::id>{}(std::this_thread::get_id()));
  char id[17];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(random()));
  return id;
}

// Adds X-Request-Id to whatever response the handlers send.
class RequestIdWriter : public http::ResponseWriter {
 public:
  RequestIdWriter(FcgiResponseWriter& inner, const std::string& id) : inner_(inner), id_(id) {}
  bool write(std::string_view data) override { return inner_.write(data); }
  bool flush() override { return inner_.flush(); }
  std::unique_ptr<http::LiveResponse> go_live() override { return inner_.go_live(); }

 protected:
  bool write_head(int status, const http::Headers& headers) override {
    http::Headers all = headers;
    all.emplace_back("X-Request-Id", id_);
    return inner_.start(status, all);
  }

 private:
  FcgiResponseWriter& inner_;
  const std::string& id_;
};

std::string worker_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

class Worker {
 public:
  explicit Worker(const WorkerSetup& setup)
      : setup_(setup),
        observer_(setup.board, setup.board_slot),
        pool_(setup.general.database_url, setup.serve.db_pool_size, std::chrono::seconds(5)),
        store_(pool_),
        listen_(setup.general.database_url,
                [](const std::exception& e) {
                  log::warn("LISTEN connection reconnects", {{"error", sql::error_text(e)}});
                }),
        transport_({setup.serve.upstream_connect_timeout, setup.serve.upstream_idle_timeout}),
        models_(load_models(setup, transport_)),
        reply_settings_(reply_settings(setup.serve)),
        tools_(load_tools(setup)),
        upstream_(loop_, {setup.serve.upstream_connect_timeout, setup.serve.upstream_idle_timeout}),
        reply_store_(store_, loop_),
        reply_loop_{loop_, upstream_, reply_store_},
        context_{store_,       models_,  transport_, reply_settings_, rate_limit(setup.serve),
                 tools_.get(), replies_, listen_,    worker_name(),   &observer_,
                 &reply_loop_},
        stop_fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (const auto& id = reply_settings_.default_model; !id.empty() && !models_.find(id))
      log::warn("default-model is not among the models offered; pages choose their own",
                {{"model", id}});
    pool_.set_wait_observer([this](std::chrono::microseconds waited, bool timed_out) {
      observer_.pool_wait(waited, timed_out);
    });
    if (tools_)
      tools_->set_call_observer(
          [this](const std::string& server, llm::McpToolRunner::CallOutcome outcome) {
            observer_.mcp_call(server, outcome);
          });
  }

  int run();

 private:
  void listen_for_interrupts();
  void recover_dead_replies();
  void keep_replies_alive();
  void serve(unsigned thread);
  bool handle(FCGX_Request& raw, unsigned thread);  // true: the response went live
  void request_stop();
  bool drain();

  const WorkerSetup& setup_;
  metrics::WorkerObserver observer_;  // the scoreboard and the metrics
  sql::Pool pool_;
  sql::Store store_;
  sql::ListenConnection listen_;  // the interrupt channel's and every follower's LISTEN
  llm::Transport transport_;
  llm::ModelCatalog models_;
  http::ReplySettings reply_settings_;
  std::unique_ptr<llm::McpToolRunner> tools_;
  http::ReplyRegistry replies_;
  // The reply loop: its thread runs loop_, which drives upstream_'s transfers and the live
  // responses; reply_store_ is its database thread.
  base::EventLoop loop_;
  llm::HttpClient upstream_;
  http::ReplyStoreThread reply_store_;
  http::ReplyLoop reply_loop_;
  base::InFlight live_;  // live responses not yet ended
  http::Context context_;
  // max-body-size, but max-file-size for an upload (API.md §10), streamed to the database.
  const BodyRules body_rules_ = [this](std::string_view method, std::string_view path) {
    if (method == "POST" && path == "/api/v2/chats/files")
      return BodyRule{std::max(setup_.serve.max_body_size, setup_.serve.max_file_size), true};
    return BodyRule{setup_.serve.max_body_size, false};
  };
  // Readable once the worker stops accepting; every request thread waits on it.
  const int stop_fd_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> served_{0};
  base::InFlight running_;  // request threads not yet ended
};

void Worker::request_stop() {
  stopping_.store(true);
  uint64_t one = 1;
  if (::write(stop_fd_, &one, sizeof one) != sizeof one) log::error("cannot signal the stop");
}

// One request thread. It waits for a connection with epoll instead of blocking in accept():
// a thread in accept() could only be stopped by a signal, and a signal that lands while
// libfcgi polls a just-accepted connection makes it drop that request. With EPOLLEXCLUSIVE one
// thread wakes per connection, and the non-blocking accept of the losers returns EAGAIN.
// The kernel wakes the first idle thread in the order the threads registered, so the first
// worker's threads would take every connection while they keep up, and with them every stream
// onto that worker's one loop, the other loops idle. A thread that handed a stream to its loop
// therefore registers again, which puts it last: streams spread over the workers' loops.
void Worker::serve(unsigned thread) {
  int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event listen_event{};
  listen_event.events = EPOLLIN | EPOLLEXCLUSIVE;
  listen_event.data.fd = setup_.listen_fd;
  epoll_event stop_event{};
  stop_event.events = EPOLLIN;
  stop_event.data.fd = stop_fd_;
  if (epoll < 0 || ::epoll_ctl(epoll, EPOLL_CTL_ADD, setup_.listen_fd, &listen_event) < 0 ||
      ::epoll_ctl(epoll, EPOLL_CTL_ADD, stop_fd_, &stop_event) < 0) {
    log::error("cannot set up epoll", {{"errno", errno}});
    request_stop();
  }
  FCGX_Request raw;
  FCGX_InitRequest(&raw, setup_.listen_fd, 0);
  while (!stopping_.load()) {
    epoll_event event;
    int n = ::epoll_wait(epoll, &event, 1, -1);
    if (n <= 0 || event.data.fd == stop_fd_) continue;
    int rc = FCGX_Accept_r(&raw);
    if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR) continue;
    if (rc < 0) {
      log::error("accept failed", {{"errno", -rc}});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // e.g. EMFILE: don't spin
      continue;
    }
    bool went_live = handle(raw, thread);
    FCGX_Finish_r(&raw);
    if (went_live && (::epoll_ctl(epoll, EPOLL_CTL_DEL, setup_.listen_fd, nullptr) < 0 ||
                      ::epoll_ctl(epoll, EPOLL_CTL_ADD, setup_.listen_fd, &listen_event) < 0)) {
      log::error("cannot wait for connections", {{"errno", errno}});
      request_stop();
    }
    uint64_t served = served_.fetch_add(1) + 1;
    if (setup_.serve.max_requests != 0 && served == setup_.serve.max_requests) {
      log::info("worker recycles after max-requests", {{"requests", served}});
      request_stop();
    }
  }
  FCGX_Free(&raw, /*close=*/1);
  if (epoll >= 0) ::close(epoll);
  running_.remove();
}

// Interrupts (POST …/interrupt on any worker or host) arrive as a NOTIFY on the cancel channel
// with the chat id; the reply running here stops within moments. Its checkpoints also read the
// flag, so an interrupt sent while this connection was down still lands.
void Worker::listen_for_interrupts() {
  while (!stopping_.load()) {
    try {
      sql::Listener listener(listen_, sql::kCancelChannel);
      while (!stopping_.load())
        for (const auto& chat_id : listener.wait(std::chrono::seconds(1))) replies_.cancel(chat_id);
    } catch (const sql::DatabaseUnavailable&) {
      // The database is away; the LISTEN connection keeps trying, and so does this.
    }
  }
}

// Any worker finishes the replies of workers that died (no heartbeat for 5 s), on any host,
// drops finished replies and old idempotency keys, and deletes the archived chats past their
// retention and the uploaded files no message uses a day after their upload (each one worker
// at a time, in batches, until none is left).
void Worker::recover_dead_replies() {
  int round = 0;
  while (!stopping_.load()) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    try {
      if (size_t n = store_.replies.recover(http::checkpointed_message); n > 0)
        log::warn("replies of a dead worker stored as failed", {{"replies", n}});
      if (++round % 30 == 0) {
        store_.replies.prune();
        store_.idempotency.prune();
        size_t files = 0;
        for (size_t n = kExpireBatch; n == kExpireBatch && !stopping_.load();)
          files += n = store_.files.prune(static_cast<int>(kExpireBatch));
        if (files > 0) log::info("unused uploaded files deleted", {{"files", files}});
      }
      if (auto age = setup_.serve.archived_chat_retention; age.count() > 0) {
        size_t expired = 0;
        for (size_t n = kExpireBatch; n == kExpireBatch && !stopping_.load();)
          expired += n = store_.chats.expire(age, kExpireBatch);
        if (expired > 0)
          log::info("archived chats past their retention deleted", {{"chats", expired}});
      }
    } catch (const std::exception& e) {
      log::debug("reply recovery skipped", {{"error", sql::error_text(e)}});
    }
  }
}

// The heartbeat of every reply running here, once a second (see chat_replies_heartbeat.sql),
// also while the worker drains: its replies run on.
void Worker::keep_replies_alive() {
  while (true) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    try {
      if (auto ids = replies_.chat_ids(); !ids.empty()) store_.replies.heartbeat(ids);
    } catch (const std::exception& e) {
      log::debug("reply heartbeat skipped", {{"error", sql::error_text(e)}});
    }
  }
}

// One request, and its line in the log: what was asked (the route pattern, never the path or
// the query, which may carry a token), by whom, how it ended. No bodies, no headers. A
// response that went live is logged when it ends, on the reply loop.
bool Worker::handle(FCGX_Request& raw, unsigned thread) {
  auto started = Clock::now();
  const uint64_t statements_before = sql::statements_sent;
  http::Request request;
  FcgiResponseWriter fcgi(raw, live_);
  BodyStatus body = read_request(raw, body_rules_, request);
  const std::string id = request_id(request);
  log::RequestScope log_scope(id);
  metrics::WorkerObserver::Scope scope(observer_, thread, id, request.method);
  RequestIdWriter out(fcgi, id);
  http::Outcome outcome;
  if (body == BodyStatus::kTooLarge) {
    http::write_error(out, http::body_too_large());
  } else {
    outcome = http::handle_request(context_, request, out);
    if (request.read_body) drain_body(raw);
  }

  const auto& notes = scope.notes();
  nlohmann::ordered_json fields = {{"request_id", id},
                                   {"method", request.method},
                                   {"route", outcome.route},
                                   {"status", out.status()}};
  if (!outcome.user_id.empty()) fields["user_id"] = outcome.user_id;
  if (!notes.chat_id.empty()) fields["chat_id"] = notes.chat_id;
  if (!notes.model.empty()) fields["model"] = notes.model;
  // Round trips to the database on this thread: a live response's later ones are the loop's.
  fields["db_statements"] = sql::statements_sent - statements_before;
  // A reply's end (finish reason, tokens, what failed inside) comes with its live response.
  auto log_line = [this, started, fields = std::move(fields), method = request.method,
                   route = outcome.route, status = out.status(), error = outcome.error,
                   head_bytes = fcgi.bytes_written()](const http::ResponseEnd& end,
                                                      uint64_t bytes) mutable {
    auto duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    observer_.request_done(method, route, status, duration);
    fields["duration_ms"] = static_cast<double>(duration.count()) / 1000;
    fields["bytes"] = head_bytes + bytes;
    if (end.prompt_tokens) fields["prompt_tokens"] = *end.prompt_tokens;
    if (end.completion_tokens) fields["completion_tokens"] = *end.completion_tokens;
    if (!end.finish_reason.empty()) fields["finish_reason"] = end.finish_reason;
    if (!end.reply_error.empty()) fields["reply_error"] = end.reply_error;
    if (!error.empty()) {
      fields["error"] = error;
    } else if (!end.failure.empty()) {
      fields["error"] = end.failure;
    }
    auto level = status >= 500                  ? log::Level::kError
                 : end.finish_reason == "error" ? log::Level::kWarn
                                                : log::Level::kInfo;
    log::write(level, "request", fields);
  };
  if (const auto& live = fcgi.request_end()) {
    // Shown in GET /status until it ends, like a request on a thread.
    live->log_with([log_line = std::move(log_line), shown = observer_.keep_shown(scope)](
                       const http::ResponseEnd& end, uint64_t bytes) mutable {
      log_line(end, bytes);
      shown.reset();
    });
    return true;
  }
  log_line({}, 0);
  fcgi.finish();
  return false;
}

// Stops accepting at once; requests in progress finish. Returns false when the shutdown
// timeout passed first.
bool Worker::drain() {
  request_stop();
  auto deadline = Clock::now() + setup_.serve.shutdown_timeout;
  if (!running_.wait_zero(deadline)) return false;
  // The replies and readers on the loop run on to their end, a reply whose client left too
  // (on-disconnect = continue).
  return replies_.wait_empty(deadline) && live_.wait_zero(deadline);
}

int Worker::run() {
  if (stop_fd_ < 0) throw std::runtime_error("eventfd failed");
  running_.add(setup_.serve.threads);
  observer_.worker_started(setup_.serve.threads);
  for (unsigned i = 0; i < setup_.serve.threads; ++i)
    threads_.emplace_back([this, i] { serve(i); });
  // The reply loop and the housekeeping threads; they end with the process.
  std::thread([this] { loop_.run(); }).detach();
  std::thread([this] { listen_for_interrupts(); }).detach();
  std::thread([this] { recover_dead_replies(); }).detach();
  std::thread([this] { keep_replies_alive(); }).detach();
  char ready = 'R';
  if (::write(setup_.ready_fd, &ready, 1) != 1) log::warn("cannot report readiness");
  ::close(setup_.ready_fd);
  observer_.set_state(scoreboard::WorkerState::kReady);
  log::info("worker ready", {{"threads", setup_.serve.threads}});

  sigset_t control = control_signals();
  while (!stopping_.load()) {
    timespec tick{0, 200'000'000};
    int sig = sigtimedwait(&control, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) break;
    if (::getppid() != setup_.master_pid) {
      log::warn("master is gone; worker drains");
      break;
    }
  }
  observer_.set_state(scoreboard::WorkerState::kDraining);
  bool clean = drain();
  if (clean) {
    for (auto& thread : threads_) thread.join();
    log::info("worker drained", {{"requests", served_.load()}});
  } else {
    log::error("shutdown timeout passed; in-flight requests are cut");
  }
  return clean ? 0 : 1;
}

}  // namespace

void run_worker(const WorkerSetup& setup) {
  // Die with the master, even if it is killed without a chance to stop us.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != setup.master_pid) ::_exit(0);

  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGCHLD, SIG_DFL);
  // The request threads inherit this mask; the main thread takes these signals.
  sigset_t control = control_signals();
  pthread_sigmask(SIG_SETMASK, &control, nullptr);

  // After fork and while single-threaded: the master never touches libcurl.
  curl_global_init(CURL_GLOBAL_ALL);
  FCGX_Init();
  log::set_level(setup.general.log_level);

  int code;
  // Never destroyed: threads may outlive a missed drain deadline, and _exit ends it all. Static,
  // so that the leak check sees it as reachable.
  static Worker* worker = nullptr;
  try {
    worker = new Worker(setup);
    code = worker->run();
  } catch (const std::exception& e) {
    log::error("worker failed", {{"error", e.what()}});
    code = 1;
  }
#ifdef CHATD_LEAK_CHECK
  // After a clean drain every request has ended, so whatever is unreachable now leaked.
  if (code == 0) __lsan_do_leak_check();
#endif
  ::_exit(code);
}

}  // namespace chatd
