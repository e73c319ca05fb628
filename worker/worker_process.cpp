#include "worker/worker_process.hpp"

#include <curl/curl.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "handlers/error.hpp"
#include "handlers/routes.hpp"
#include "sql/pool.hpp"
#include "sql/store.hpp"
#include "worker/fcgi_io.hpp"
#include "worker/log.hpp"

namespace chatd {

namespace {

using Clock = std::chrono::steady_clock;

// Interrupts a thread blocked in accept(): its handler does nothing, but it is installed
// without SA_RESTART so accept() returns EINTR.
constexpr int kWakeSignal = SIGUSR1;

void on_wake(int) {}

// Blocked in every thread of a worker; the main thread takes them with sigtimedwait.
sigset_t control_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&set, s);
  return set;
}

enum class ThreadState : int { kStarting, kAccepting, kBusy, kDone };

class Worker {
 public:
  explicit Worker(const WorkerSetup& setup)
      : setup_(setup),
        pool_(setup.general.database_url, setup.serve.db_pool_size, std::chrono::seconds(5)),
        store_(pool_),
        context_{store_},
        states_(setup.serve.threads) {}

  int run();

 private:
  void serve(size_t index);
  void handle(FCGX_Request& raw);
  void request_stop() { stopping_.store(true); }
  bool drain();

  const WorkerSetup& setup_;
  sql::Pool pool_;
  sql::Store store_;
  http::Context context_;
  std::vector<std::atomic<ThreadState>> states_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> served_{0};
};

void Worker::serve(size_t index) {
  FCGX_Request raw;
  FCGX_InitRequest(&raw, setup_.listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
  auto& state = states_[index];
  while (true) {
    // Publish "accepting" before the last look at the flag, so a drain that starts after
    // that look finds us and interrupts the accept.
    state.store(ThreadState::kAccepting);
    if (stopping_.load()) break;
    int rc = FCGX_Accept_r(&raw);
    state.store(ThreadState::kBusy);
    if (rc < 0) {
      if (stopping_.load()) break;
      if (rc != -EINTR) {
        log::error("accept failed", {{"errno", -rc}});
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // e.g. EMFILE: don't spin
      }
      continue;
    }
    handle(raw);
    FCGX_Finish_r(&raw);
    uint64_t served = served_.fetch_add(1) + 1;
    if (setup_.serve.max_requests != 0 && served >= setup_.serve.max_requests) {
      log::info("worker recycles after max-requests", {{"requests", served}});
      request_stop();
      ::kill(::getpid(), SIGTERM);  // wakes the main thread
    }
  }
  FCGX_Free(&raw, /*close=*/1);
  state.store(ThreadState::kDone);
}

void Worker::handle(FCGX_Request& raw) {
  auto started = Clock::now();
  http::Request request;
  FcgiResponseWriter out(raw);
  http::Outcome outcome;
  if (read_request(raw, setup_.serve.max_body_size, request) == BodyStatus::kTooLarge) {
    http::write_error(out, http::body_too_large());
  } else {
    outcome = http::handle_request(context_, request, out);
  }
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
  nlohmann::ordered_json fields = {{"method", request.method},
                                   {"route", outcome.route},
                                   {"status", out.status()},
                                   {"duration_us", micros},
                                   {"bytes", out.bytes_written()}};
  if (!outcome.user_id.empty()) fields["user_id"] = outcome.user_id;
  if (!outcome.error.empty()) fields["error"] = outcome.error;
  if (out.status() >= 500)
    log::error("request failed", fields);
  else
    log::debug("request", fields);
}

// Stops every thread: those in accept() are interrupted, busy ones finish their request.
// Returns false when the shutdown timeout passed first.
bool Worker::drain() {
  request_stop();
  auto deadline = Clock::now() + setup_.serve.shutdown_timeout;
  while (true) {
    bool all_done = true;
    for (size_t i = 0; i < states_.size(); ++i) {
      auto state = states_[i].load();
      if (state != ThreadState::kDone) all_done = false;
      // A signal can land just before the thread enters accept(); so repeat until it is out.
      if (state == ThreadState::kAccepting) pthread_kill(threads_[i].native_handle(), kWakeSignal);
    }
    if (all_done) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int Worker::run() {
  for (size_t i = 0; i < states_.size(); ++i) threads_.emplace_back([this, i] { serve(i); });
  char ready = 'R';
  if (::write(setup_.ready_fd, &ready, 1) != 1) log::warn("cannot report readiness");
  ::close(setup_.ready_fd);
  log::info("worker ready", {{"threads", states_.size()}});

  sigset_t control = control_signals();
  while (true) {
    timespec tick{0, 200'000'000};
    int sig = sigtimedwait(&control, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT || stopping_.load()) break;
    if (::getppid() != setup_.master_pid) {
      log::warn("master is gone; worker drains");
      break;
    }
  }
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

  struct sigaction wake {};
  wake.sa_handler = on_wake;
  sigemptyset(&wake.sa_mask);
  wake.sa_flags = 0;  // no SA_RESTART: accept() must return
  ::sigaction(kWakeSignal, &wake, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGCHLD, SIG_DFL);
  // The request threads inherit this mask: only the wake signal reaches them.
  sigset_t control = control_signals();
  pthread_sigmask(SIG_SETMASK, &control, nullptr);

  // After fork and while single-threaded: the master never touches libcurl.
  curl_global_init(CURL_GLOBAL_ALL);
  FCGX_Init();
  log::set_level(setup.general.log_level);

  int code;
  try {
    // Never destroyed: threads may outlive a missed drain deadline, and _exit ends it all.
    auto* worker = new Worker(setup);
    code = worker->run();
  } catch (const std::exception& e) {
    log::error("worker failed", {{"error", e.what()}});
    code = 1;
  }
  ::_exit(code);
}

}  // namespace chatd
