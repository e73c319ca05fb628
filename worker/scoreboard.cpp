#include "worker/scoreboard.hpp"

#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <new>
#include <sstream>
#include <system_error>

#include "worker/counters.hpp"

namespace chatd::scoreboard {

namespace {

constexpr size_t kAlign = 64;  // a cache line: records of different writers never share one
constexpr unsigned kMaxSlots = 1024;
constexpr unsigned kMaxThreads = 4096;
// Threads per slot at least: a reload may raise --threads up to this without a restart.
constexpr unsigned kMinThreadCapacity = 256;

constexpr size_t aligned(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Retries of a record that keeps changing under a reader; past them the reader takes what it
// read (each field is still a value some writer stored).
constexpr int kReadAttempts = 64;

}  // namespace

struct Scoreboard::Header {
  std::atomic<int32_t> master_pid{0};
  std::atomic<int64_t> started_unix_ms{0};
};

std::string_view state_name(WorkerState state) {
  switch (state) {
    case WorkerState::kFree:
      return "free";
    case WorkerState::kStarting:
      return "starting";
    case WorkerState::kReady:
      return "ready";
    case WorkerState::kDraining:
      return "draining";
  }
  return "unknown";
}

int64_t monotonic_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int64_t unix_ms() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

unsigned Scoreboard::slots_for(unsigned workers) {
  return std::min(kMaxSlots, 2 * std::max(workers, 1u) + 2);
}

unsigned Scoreboard::threads_for(unsigned threads) {
  return std::min(kMaxThreads, std::max(threads, kMinThreadCapacity));
}

Scoreboard::Scoreboard(unsigned worker_slots, unsigned thread_capacity)
    : worker_slots_(std::max(1u, worker_slots)), thread_capacity_(std::max(1u, thread_capacity)) {
  slot_stride_ = aligned(sizeof(WorkerRecord)) + thread_capacity_ * aligned(sizeof(ThreadRecord));
  size_t counters_at = aligned(sizeof(Header));
  size_t slots_at = counters_at + aligned(sizeof(metrics::Counters));
  size_ = slots_at + worker_slots_ * slot_stride_;
  // Pages are only backed once touched: unused thread records cost address space, not memory.
  base_ = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (base_ == MAP_FAILED) {
    base_ = nullptr;
    throw std::system_error(errno, std::generic_category(), "mmap of the scoreboard");
  }
  char* base = static_cast<char*>(base_);
  header_ = new (base) Header();
  counters_ = new (base + counters_at) metrics::Counters();
  slots_ = base + slots_at;
  for (unsigned s = 0; s < worker_slots_; ++s) new (slots_ + s * slot_stride_) WorkerRecord();
  // Thread records are zero already, which is what their constructor would write; leaving
  // them untouched keeps their pages unbacked until a worker uses them.
  header_->master_pid.store(::getpid(), std::memory_order_relaxed);
  header_->started_unix_ms.store(unix_ms(), std::memory_order_relaxed);
}

Scoreboard::~Scoreboard() {
  if (base_) ::munmap(base_, size_);
}

pid_t Scoreboard::master_pid() const { return header_->master_pid.load(std::memory_order_relaxed); }

int64_t Scoreboard::started_unix_ms() const {
  return header_->started_unix_ms.load(std::memory_order_relaxed);
}

WorkerRecord& Scoreboard::worker(unsigned slot) const {
  return *std::launder(reinterpret_cast<WorkerRecord*>(slots_ + slot * slot_stride_));
}

ThreadRecord* Scoreboard::thread(unsigned slot, unsigned index) const {
  if (slot >= worker_slots_ || index >= thread_capacity_) return nullptr;
  char* at = slots_ + slot * slot_stride_ + aligned(sizeof(WorkerRecord)) +
             index * aligned(sizeof(ThreadRecord));
  return reinterpret_cast<ThreadRecord*>(at);
}

std::optional<unsigned> Scoreboard::claim() {
  for (unsigned s = 0; s < worker_slots_; ++s) {
    auto& w = worker(s);
    uint32_t free = static_cast<uint32_t>(WorkerState::kFree);
    if (w.state.compare_exchange_strong(free, static_cast<uint32_t>(WorkerState::kStarting))) {
      w.pid.store(0, std::memory_order_relaxed);
      w.requests.store(0, std::memory_order_relaxed);
      w.replies_running.store(0, std::memory_order_relaxed);
      w.threads.store(0, std::memory_order_relaxed);
      w.started_unix_ms.store(unix_ms(), std::memory_order_relaxed);
      return s;
    }
  }
  return std::nullopt;
}

void Scoreboard::release(unsigned slot) {
  if (slot >= worker_slots_) return;
  auto& w = worker(slot);
  unsigned threads = std::min(w.threads.load(std::memory_order_relaxed), thread_capacity_);
  for (unsigned t = 0; t < threads; ++t) ThreadWriter(thread(slot, t)).end();
  w.pid.store(0, std::memory_order_relaxed);
  w.replies_running.store(0, std::memory_order_relaxed);
  w.threads.store(0, std::memory_order_relaxed);
  w.state.store(static_cast<uint32_t>(WorkerState::kFree), std::memory_order_release);
}

template <class Fn>
void ThreadWriter::update(Fn&& fn) {
  if (!record_) return;
  uint64_t seq = record_->sequence.load(std::memory_order_relaxed);
  record_->sequence.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  fn(*record_);
  record_->sequence.store(seq + 2, std::memory_order_release);
}

void ThreadWriter::begin(std::string_view request_id, std::string_view method) {
  update([&](ThreadRecord& r) {
    r.request_id.store(request_id);
    r.method.store(method);
    r.route.store("");
    r.user_id.store("");
    r.chat_id.store("");
    r.model.store("");
    r.started_unix_ms.store(unix_ms(), std::memory_order_relaxed);
    r.started_mono_ns.store(monotonic_ns(), std::memory_order_relaxed);
  });
}

void ThreadWriter::begin_as(const ThreadRecord& from) {
  auto view = read_request(from, monotonic_ns());
  if (!view) return;
  update([&](ThreadRecord& r) {
    r.request_id.store(view->request_id);
    r.method.store(view->method);
    r.route.store(view->route);
    r.user_id.store(view->user_id);
    r.chat_id.store(view->chat_id);
    r.model.store(view->model);
    r.started_unix_ms.store(view->started_unix_ms, std::memory_order_relaxed);
    r.started_mono_ns.store(from.started_mono_ns.load(std::memory_order_relaxed),
                            std::memory_order_relaxed);
  });
}

bool ThreadWriter::busy() const {
  return record_ && record_->started_mono_ns.load(std::memory_order_relaxed) != 0;
}

void ThreadWriter::set_route(std::string_view method, std::string_view route) {
  update([&](ThreadRecord& r) {
    r.method.store(method);
    r.route.store(route);
  });
}

void ThreadWriter::set_user(std::string_view user_id) {
  update([&](ThreadRecord& r) { r.user_id.store(user_id); });
}

void ThreadWriter::set_chat(std::string_view chat_id) {
  update([&](ThreadRecord& r) { r.chat_id.store(chat_id); });
}

void ThreadWriter::set_model(std::string_view model) {
  update([&](ThreadRecord& r) { r.model.store(model); });
}

void ThreadWriter::end() {
  update([&](ThreadRecord& r) { r.started_mono_ns.store(0, std::memory_order_relaxed); });
}

std::optional<RequestView> read_request(const ThreadRecord& record, int64_t now_mono_ns) {
  RequestView view;
  int64_t started = 0;
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    uint64_t before = record.sequence.load(std::memory_order_acquire);
    if (before & 1) continue;
    started = record.started_mono_ns.load(std::memory_order_relaxed);
    if (started != 0) {
      view.request_id = record.request_id.load();
      view.method = record.method.load();
      view.route = record.route.load();
      view.user_id = record.user_id.load();
      view.chat_id = record.chat_id.load();
      view.model = record.model.load();
      view.started_unix_ms = record.started_unix_ms.load(std::memory_order_relaxed);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (record.sequence.load(std::memory_order_relaxed) == before) break;
  }
  if (started == 0) return std::nullopt;
  view.duration_ms = std::max<int64_t>(0, (now_mono_ns - started) / 1'000'000);
  return view;
}

std::vector<WorkerView> Scoreboard::workers() const {
  std::vector<WorkerView> out;
  int64_t now = monotonic_ns();
  for (unsigned s = 0; s < worker_slots_; ++s) {
    const auto& w = worker(s);
    auto state = static_cast<WorkerState>(w.state.load(std::memory_order_acquire));
    if (state == WorkerState::kFree) continue;
    WorkerView view;
    view.slot = s;
    view.pid = w.pid.load(std::memory_order_relaxed);
    view.state = state;
    view.started_unix_ms = w.started_unix_ms.load(std::memory_order_relaxed);
    view.requests = w.requests.load(std::memory_order_relaxed);
    view.replies_running = w.replies_running.load(std::memory_order_relaxed);
    view.threads = std::min(w.threads.load(std::memory_order_relaxed), thread_capacity_);
    // Records past the threads' show responses on the reply loop (WorkerObserver::keep_shown).
    for (unsigned t = 0; t < thread_capacity_; ++t) {
      if (auto request = read_request(*thread(s, t), now)) {
        request->thread = t;
        view.busy += t < view.threads;
        view.current.push_back(std::move(*request));
      }
    }
    out.push_back(std::move(view));
  }
  return out;
}

namespace {

std::string iso_time(int64_t unix_ms) {
  time_t seconds = static_cast<time_t>(unix_ms / 1000);
  tm utc;
  ::gmtime_r(&seconds, &utc);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return text;
}

}  // namespace

nlohmann::ordered_json Scoreboard::status_json() const {
  using json = nlohmann::ordered_json;
  int64_t now = unix_ms();
  auto views = workers();
  json workers = json::array();
  uint64_t requests = 0;
  unsigned busy = 0, idle = 0;
  int64_t replies = 0;
  for (const auto& w : views) {
    json current = json::array();
    for (const auto& r : w.current) {
      json item = {{"thread", r.thread},
                   {"request_id", r.request_id},
                   {"method", r.method},
                   {"route", r.route},
                   {"user_id", r.user_id},
                   {"chat_id", r.chat_id},
                   {"model", r.model},
                   {"started", iso_time(r.started_unix_ms)},
                   {"duration_ms", r.duration_ms}};
      current.push_back(std::move(item));
    }
    workers.push_back({{"slot", w.slot},
                       {"pid", w.pid},
                       {"state", state_name(w.state)},
                       {"started", iso_time(w.started_unix_ms)},
                       {"uptime_s", std::max<int64_t>(0, (now - w.started_unix_ms) / 1000)},
                       {"requests", w.requests},
                       {"threads", w.threads},
                       {"busy", w.busy},
                       {"idle", w.threads - w.busy},
                       {"replies_running", w.replies_running},
                       {"current", std::move(current)}});
    requests += w.requests;
    busy += w.busy;
    idle += w.threads - w.busy;
    replies += w.replies_running;
  }
  auto restarts = [&](size_t reason) {
    return counters_->worker_restarts[reason].load(std::memory_order_relaxed);
  };
  return {{"master_pid", master_pid()},
          {"started", iso_time(started_unix_ms())},
          {"uptime_s", std::max<int64_t>(0, (now - started_unix_ms()) / 1000)},
          {"now", iso_time(now)},
          {"workers_total", views.size()},
          {"requests", requests},
          {"busy", busy},
          {"idle", idle},
          {"replies_running", replies},
          {"worker_restarts",
           {{"crash", restarts(metrics::kCrashRestart)},
            {"recycle", restarts(metrics::kRecycleRestart)}}},
          {"workers", std::move(workers)}};
}

namespace {

std::string duration_text(int64_t seconds) {
  char text[32];
  if (seconds < 60)
    std::snprintf(text, sizeof text, "%llds", static_cast<long long>(seconds));
  else if (seconds < 3600)
    std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  else if (seconds < 86400)
    std::snprintf(text, sizeof text, "%lldh%02lldm", static_cast<long long>(seconds / 3600),
                  static_cast<long long>(seconds / 60 % 60));
  else
    std::snprintf(text, sizeof text, "%lldd%02lldh", static_cast<long long>(seconds / 86400),
                  static_cast<long long>(seconds / 3600 % 24));
  return text;
}

// Columns padded to their widest cell; the last one is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string text_of(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

}  // namespace

std::string format_status(const nlohmann::json& status) {
  auto number = [](const nlohmann::json& v) { return v.is_number() ? v.get<int64_t>() : 0; };
  const auto& restarts = status.value("worker_restarts", nlohmann::json::object());
  std::ostringstream out;
  out << "chatd master " << text_of(status.value("master_pid", nlohmann::json())) << ", up "
      << duration_text(number(status.value("uptime_s", nlohmann::json(0)))) << " (since "
      << text_of(status.value("started", nlohmann::json())) << ")\n"
      << number(status.value("workers_total", nlohmann::json(0))) << " workers, "
      << number(status.value("busy", nlohmann::json(0))) << " busy / "
      << number(status.value("idle", nlohmann::json(0))) << " idle threads, "
      << number(status.value("replies_running", nlohmann::json(0))) << " replies running, "
      << number(status.value("requests", nlohmann::json(0))) << " requests served by them; "
      << "worker restarts: " << number(restarts.value("crash", nlohmann::json(0)))
      << " after a crash, " << number(restarts.value("recycle", nlohmann::json(0)))
      << " recycled\n\n";

  std::vector<std::vector<std::string>> workers = {
      {"PID", "STATE", "UP", "REQUESTS", "BUSY", "IDLE", "REPLIES"}};
  std::vector<std::vector<std::string>> current = {
      {"PID", "THREAD", "DURATION", "METHOD", "ROUTE", "CHAT", "MODEL", "USER", "REQUEST ID"}};
  for (const auto& w : status.value("workers", nlohmann::json::array())) {
    workers.push_back(
        {text_of(w.value("pid", nlohmann::json())), text_of(w.value("state", nlohmann::json())),
         duration_text(number(w.value("uptime_s", nlohmann::json(0)))),
         text_of(w.value("requests", nlohmann::json())), text_of(w.value("busy", nlohmann::json())),
         text_of(w.value("idle", nlohmann::json())),
         text_of(w.value("replies_running", nlohmann::json()))});
    for (const auto& r : w.value("current", nlohmann::json::array())) {
      char duration[32];
      std::snprintf(duration, sizeof duration, "%.1fs",
                    static_cast<double>(number(r.value("duration_ms", nlohmann::json(0)))) / 1000);
      auto cell = [&](const char* key) {
        std::string v = text_of(r.value(key, nlohmann::json()));
        return v.empty() ? std::string("-") : v;
      };
      current.push_back({text_of(w.value("pid", nlohmann::json())), cell("thread"), duration,
                         cell("method"), cell("route"), cell("chat_id"), cell("model"),
                         cell("user_id"), cell("request_id")});
    }
  }
  out << table(workers);
  if (current.size() > 1)
    out << "\nRequests in flight:\n" << table(current);
  else
    out << "\nNo requests in flight.\n";
  return out.str();
}

}  // namespace chatd::scoreboard
