#include "worker/master.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <vector>

#include "sql/error_text.hpp"
#include "sql/migrate.hpp"
#include "sql/search_language.hpp"
#include "worker/listen_socket.hpp"
#include "worker/log.hpp"
#include "worker/metrics.hpp"
#include "worker/scoreboard.hpp"
#include "worker/worker_process.hpp"

namespace chatd {

namespace {

using Clock = std::chrono::steady_clock;

// Crash-loop breaker: this many abnormal worker exits within the window stop the service
// (systemd's Restart= then decides), instead of forking for ever.
constexpr int kCrashLimit = 10;
constexpr auto kCrashWindow = std::chrono::seconds(60);
constexpr auto kMaxBackoff = std::chrono::seconds(5);
// How often the systemd status line is refreshed from the scoreboard.
constexpr auto kStatusInterval = std::chrono::seconds(5);

struct WorkerSlot {
  pid_t pid = 0;
  int ready_fd = -1;  // read end; closed once the worker reported ready
  bool ready = false;
  bool retiring = false;          // told to drain (reload, shrink or stop): its exit is expected
  std::optional<pid_t> replaces;  // during a reload: the old worker to retire once this is ready
  std::optional<unsigned> board_slot;  // its record in the scoreboard
};

class Master {
 public:
  Master(const ServeSettings& settings, const std::function<ServeSettings()>& reload)
      : settings_(settings), reload_(reload) {}
  int run();

 private:
  void spawn(std::optional<pid_t> replaces = std::nullopt);
  void on_signal(int sig);
  void reap();
  void on_ready(WorkerSlot& slot);
  void start_reload();
  void continue_reload();
  void stop_all();
  size_t active_count() const;
  void notify_status();
  int drain_and_exit();

  ServeSettings settings_;
  const std::function<ServeSettings()>& reload_;
  ListenSocket socket_;
  int signal_fd_ = -1;
  // Shared with every worker; created before the first fork, kept across reloads.
  std::unique_ptr<scoreboard::Scoreboard> board_;
  std::string last_status_;
  Clock::time_point next_status_{};
  std::vector<WorkerSlot> workers_;
  std::deque<pid_t> to_replace_;  // old workers a reload still has to replace
  bool replacing_ = false;        // a replacement is starting
  bool reloading_ = false;
  bool started_ = false;  // READY=1 was sent
  bool stopping_ = false;
  bool crash_loop_ = false;
  std::deque<Clock::time_point> crashes_;
  Clock::time_point respawn_at_{};
  size_t respawn_pending_ = 0;
  int consecutive_crashes_ = 0;
};

size_t Master::active_count() const {
  return static_cast<size_t>(std::count_if(workers_.begin(), workers_.end(),
                                           [](const WorkerSlot& w) { return !w.retiring; }));
}

void Master::notify_status() {
  size_t ready =
      static_cast<size_t>(std::count_if(workers_.begin(), workers_.end(), [](const WorkerSlot& w) {
        return w.ready && !w.retiring;
      }));
  std::string status = "STATUS=" + std::to_string(ready) + " of " +
                       std::to_string(settings_.serve.workers) + " workers ready on " +
                       socket_.description;
  if (board_) {  // as PHP-FPM's: what the workers are doing, from the scoreboard
    uint64_t requests = 0;
    unsigned busy = 0, idle = 0;
    for (const auto& w : board_->workers()) {
      requests += w.requests;
      busy += w.busy;
      idle += w.threads - w.busy;
    }
    status += "; threads busy: " + std::to_string(busy) + ", idle: " + std::to_string(idle) +
              "; requests: " + std::to_string(requests);
  }
  next_status_ = Clock::now() + kStatusInterval;
  if (status == last_status_) return;
  last_status_ = status;
  sd_notify(0, status.c_str());
}

void Master::spawn(std::optional<pid_t> replaces) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) {
    log::error("pipe failed", {{"errno", errno}});
    return;
  }
  std::optional<unsigned> board_slot = board_->claim();
  if (!board_slot)
    log::warn("no free scoreboard slot: this worker's requests are counted but not shown",
              {{"slots", board_->worker_slots()}});
  pid_t master = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    log::error("fork failed", {{"errno", errno}});
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    if (board_slot) board_->release(*board_slot);
    return;
  }
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::close(signal_fd_);
    for (auto& w : workers_)
      if (w.ready_fd >= 0) ::close(w.ready_fd);
    run_worker({socket_.fd, pipe_fds[1], master, settings_.general, settings_.serve,
                settings_.providers, settings_.mcp_servers, board_.get(),
                board_slot ? static_cast<int>(*board_slot) : -1});
  }
  ::close(pipe_fds[1]);
  if (board_slot) board_->worker(*board_slot).pid.store(pid, std::memory_order_relaxed);
  workers_.push_back({pid, pipe_fds[0], false, false, replaces, board_slot});
  log::info("worker started", {{"worker_pid", pid}});
}

void Master::on_ready(WorkerSlot& slot) {
  slot.ready = true;
  ::close(slot.ready_fd);
  slot.ready_fd = -1;
  if (slot.replaces) {
    for (auto& old : workers_) {
      if (old.pid == *slot.replaces && !old.retiring) {
        old.retiring = true;
        ::kill(old.pid, SIGTERM);
      }
    }
    slot.replaces.reset();
    replacing_ = false;
    continue_reload();
  }
  if (!started_ && active_count() == settings_.serve.workers &&
      std::all_of(workers_.begin(), workers_.end(), [](const WorkerSlot& w) { return w.ready; })) {
    started_ = true;
    sd_notify(0, "READY=1");
    log::info("chatd ready",
              {{"workers", settings_.serve.workers}, {"listen", socket_.description}});
  }
  notify_status();
}

void Master::reap() {
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    auto it = std::find_if(workers_.begin(), workers_.end(),
                           [&](const WorkerSlot& w) { return w.pid == pid; });
    if (it == workers_.end()) continue;
    WorkerSlot slot = *it;
    if (slot.ready_fd >= 0) ::close(slot.ready_fd);
    if (slot.board_slot) board_->release(*slot.board_slot);
    workers_.erase(it);
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    nlohmann::ordered_json fields = {{"worker_pid", pid}};
    if (WIFSIGNALED(status)) fields["signal"] = WTERMSIG(status);
    if (WIFEXITED(status)) fields["exit_code"] = WEXITSTATUS(status);
    if (slot.retiring || stopping_) {
      log::info("worker exited", fields);
      continue;
    }
    if (slot.replaces) {  // a reload's new worker died before it was ready: keep the old one
      log::error("replacement worker died; reload keeps the old worker", fields);
      replacing_ = false;
      continue_reload();
      continue;
    }
    auto now = Clock::now();
    if (clean) {  // recycled after --max-requests
      log::info("worker recycled", fields);
      consecutive_crashes_ = 0;
    } else {
      log::error("worker died", fields);
      crashes_.push_back(now);
      while (!crashes_.empty() && now - crashes_.front() > kCrashWindow) crashes_.pop_front();
      if (crashes_.size() >= static_cast<size_t>(kCrashLimit)) {
        log::error("crash loop: workers keep dying; giving up",
                   {{"crashes", crashes_.size()}, {"window_s", kCrashWindow.count()}});
        sd_notify(0, "STATUS=crash loop: workers keep dying");
        stopping_ = true;
        crash_loop_ = true;
        return;
      }
      ++consecutive_crashes_;
    }
    // The first restart is immediate; repeated crashes back off exponentially.
    auto delay = consecutive_crashes_ <= 1
                     ? Clock::duration::zero()
                     : std::min<Clock::duration>(std::chrono::milliseconds(100) *
                                                     (1 << std::min(consecutive_crashes_ - 2, 6)),
                                                 kMaxBackoff);
    respawn_at_ = std::max(respawn_at_, now + delay);
    ++respawn_pending_;
    board_->counters()
        .worker_restarts[clean ? metrics::kRecycleRestart : metrics::kCrashRestart]
        .fetch_add(1, std::memory_order_relaxed);
  }
}

void Master::start_reload() {
  ServeSettings next;
  try {
    next = reload_();
  } catch (const std::exception& e) {
    log::error("reload refused: configuration is invalid; keeping the running one",
               {{"error", e.what()}});
    notify_status();
    return;
  }
  if (next.serve.listen != settings_.serve.listen)
    log::warn("listen changed; a restart is needed to move the socket");
  next.serve.listen = settings_.serve.listen;
  settings_ = next;
  log::set_level(settings_.general.log_level);
  sd_notify(0, "RELOADING=1");
  reloading_ = true;
  to_replace_.clear();
  for (const auto& w : workers_)
    if (!w.retiring) to_replace_.push_back(w.pid);
  log::info("reloading: replacing workers one at a time", {{"workers", to_replace_.size()}});
  continue_reload();
}

// One step of a rolling reload: start the replacement of the next old worker; its readiness
// (on_ready) retires the old one and calls this again.
void Master::continue_reload() {
  if (!reloading_ || replacing_ || stopping_) return;
  while (!to_replace_.empty()) {
    pid_t old = to_replace_.front();
    to_replace_.pop_front();
    bool alive = std::any_of(workers_.begin(), workers_.end(),
                             [&](const WorkerSlot& w) { return w.pid == old && !w.retiring; });
    if (!alive) continue;
    if (active_count() > settings_.serve.workers) {  // the new configuration has fewer
      for (auto& w : workers_)
        if (w.pid == old) {
          w.retiring = true;
          ::kill(old, SIGTERM);
        }
      continue;
    }
    replacing_ = true;
    spawn(old);
    return;
  }
  while (active_count() < settings_.serve.workers) spawn();  // the new configuration has more
  reloading_ = false;
  sd_notify(0, "READY=1");
  log::info("reload complete");
  notify_status();
}

void Master::stop_all() {
  for (auto& w : workers_) {
    w.retiring = true;
    ::kill(w.pid, SIGTERM);
  }
}

int Master::drain_and_exit() {
  sd_notify(0, "STOPPING=1");
  log::info("stopping: draining workers", {{"workers", workers_.size()}});
  stop_all();
  // The workers stop themselves at their own deadline; a little more for them to exit.
  auto deadline = Clock::now() + settings_.serve.shutdown_timeout + std::chrono::seconds(2);
  while (!workers_.empty() && Clock::now() < deadline) {
    pollfd p{signal_fd_, POLLIN, 0};
    ::poll(&p, 1, 100);
    signalfd_siginfo info;
    while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
    }
    reap();
  }
  for (auto& w : workers_) ::kill(w.pid, SIGKILL);
  if (!socket_.unix_path.empty()) ::unlink(socket_.unix_path.c_str());
  log::info("chatd stopped");
  return crash_loop_ ? 1 : 0;
}

void Master::on_signal(int sig) {
  switch (sig) {
    case SIGCHLD:
      reap();
      break;
    case SIGHUP:
      if (reloading_)
        log::warn("reload already in progress; SIGHUP ignored");
      else
        start_reload();
      break;
    case SIGTERM:
    case SIGINT:
    case SIGQUIT:
      stopping_ = true;
      break;
    default:
      break;
  }
}

int Master::run() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT}) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal_fd_ = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  ::signal(SIGPIPE, SIG_IGN);

  try {
    socket_ = open_listen_socket(settings_.serve.listen, settings_.serve.socket_mode,
                                 settings_.serve.socket_group);
  } catch (const std::exception& e) {
    log::error("cannot open the FastCGI socket", {{"error", e.what()}});
    return 1;
  }
  try {
    board_ = std::make_unique<scoreboard::Scoreboard>(
        scoreboard::Scoreboard::slots_for(settings_.serve.workers),
        scoreboard::Scoreboard::threads_for(settings_.serve.threads));
  } catch (const std::exception& e) {
    log::error("cannot create the scoreboard", {{"error", e.what()}});
    return 1;
  }
  for (unsigned i = 0; i < settings_.serve.workers; ++i) spawn();

  while (!stopping_) {
    std::vector<pollfd> fds{{signal_fd_, POLLIN, 0}};
    for (const auto& w : workers_)
      if (w.ready_fd >= 0) fds.push_back({w.ready_fd, POLLIN, 0});
    auto wake = next_status_;
    if (respawn_pending_ > 0) wake = std::min(wake, respawn_at_);
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now());
    int timeout = static_cast<int>(std::max<long long>(0, wait.count()));
    ::poll(fds.data(), fds.size(), timeout);

    signalfd_siginfo info;
    while (::read(signal_fd_, &info, sizeof info) == sizeof info)
      on_signal(static_cast<int>(info.ssi_signo));
    for (size_t i = 1; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      for (auto& w : workers_) {
        if (w.ready_fd != fds[i].fd) continue;
        char byte;
        if (::read(w.ready_fd, &byte, 1) == 1) {
          on_ready(w);
        } else {  // died before ready; SIGCHLD tells the rest
          ::close(w.ready_fd);
          w.ready_fd = -1;
        }
        break;
      }
    }
    if (respawn_pending_ > 0 && Clock::now() >= respawn_at_ && !stopping_) {
      for (; respawn_pending_ > 0; --respawn_pending_)
        if (active_count() < settings_.serve.workers) spawn();
    }
    if (Clock::now() >= next_status_ && !stopping_) notify_status();
  }
  return drain_and_exit();
}

// Every worker holds up to db-pool-size connections and one LISTEN connection (README
// "Connections to PostgreSQL"); PostgreSQL keeps superuser_reserved_connections of its
// max_connections for superusers. Said at start, since a full server shows only as 503s later.
void check_connection_budget(pqxx::connection& conn, const config::Serve& serve) {
  uint64_t available;
  try {
    pqxx::nontransaction tx(conn);
    available = tx.exec1(
                      "SELECT current_setting('max_connections')::int - "
                      "current_setting('superuser_reserved_connections')::int")[0]
                    .as<uint64_t>();
  } catch (const std::exception& e) {
    log::warn("cannot read max_connections", {{"error", sql::error_text(e)}});
    return;
  }
  const uint64_t needed = uint64_t{serve.workers} * (serve.db_pool_size + 1);
  if (needed > available)
    log::warn("chatd may open more PostgreSQL connections than the server admits",
              {{"connections", needed},
               {"workers", serve.workers},
               {"db_pool_size", serve.db_pool_size},
               {"max_connections_without_reserved", available}});
}

}  // namespace

int run_master(const ServeSettings& initial, const std::function<ServeSettings()>& reload) {
  log::set_level(initial.general.log_level);
  try {
    pqxx::connection conn(initial.general.database_url);
    auto result = sql::migrate(conn, sql::order_migrations(sql::embedded_migrations()));
    for (const auto& name : result.applied) log::info("migration applied", {{"migration", name}});
    if (result.unknown_newer > 0)
      log::warn("the database has migrations this binary does not know (a newer chatd ran?)",
                {{"count", result.unknown_newer}});
    if (sql::set_search_language(conn, initial.general.search_language))
      log::warn("search language changed: the search index was rebuilt",
                {{"search_language", initial.general.search_language}});
    check_connection_budget(conn, initial.serve);
  } catch (const std::exception& e) {
    log::error("cannot migrate the database", {{"error", e.what()}});
    return 1;
  }
  return Master(initial, reload).run();
}

}  // namespace chatd
