#include "sql/listener.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "sql/pool.hpp"

namespace chatd::sql {

namespace {

constexpr auto kSubscribeTimeout = std::chrono::seconds(5);
constexpr auto kPollInterval = std::chrono::seconds(1);
constexpr auto kFirstBackoff = std::chrono::milliseconds(500);
constexpr auto kLastBackoff = std::chrono::seconds(10);

}  // namespace

struct Listener::Inbox {
  std::condition_variable ready;
  std::vector<std::string> payloads;
  bool woken = false;              // the connection broke: whatever was sent meanwhile may be lost
  std::function<void()> on_ready;  // Listener::notify_to
  void ring() {
    ready.notify_one();
    if (on_ready) on_ready();
  }
};

// Everything below the mutex is shared with the listeners; the connection and its receivers
// belong to the thread alone (a libpqxx connection is not thread-safe).
struct ListenConnection::State {
  State(std::string url, ListenConnection::ErrorObserver on_error)
      : url(std::move(url)), on_error(std::move(on_error)) {}

  const std::string url;
  const ListenConnection::ErrorObserver on_error;
  const int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  std::mutex mutex;
  std::condition_variable listened;  // `listened_upto` moved, or the thread is stopping
  std::condition_variable stop_requested;
  std::multimap<std::string, Listener::Inbox*> inboxes;  // by channel
  uint64_t requested = 0;                                // listeners registered so far
  uint64_t listened_upto = 0;  // the first `listened_upto` of them have their LISTEN active
  bool stopping = false;
  std::thread thread;

  void wake() const {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  void deliver(const std::string& channel, const std::string& payload) {
    std::lock_guard lock(mutex);
    for (auto [it, end] = inboxes.equal_range(channel); it != end; ++it) {
      if (it->second->payloads.size() < Listener::kMaxPending)
        it->second->payloads.push_back(payload);
      it->second->ring();
    }
  }

  void wake_all_listeners() {
    std::lock_guard lock(mutex);
    for (auto& [channel, inbox] : inboxes) {
      inbox->woken = true;
      inbox->ring();
    }
  }

  // Connects, serves until the connection breaks, waits, again; until stopping.
  void run() {
    auto backoff = std::chrono::duration_cast<std::chrono::milliseconds>(kFirstBackoff);
    while (true) {
      try {
        pqxx::connection conn(url);
        backoff = kFirstBackoff;
        serve(conn);
        return;  // stopping
      } catch (const std::exception& e) {
        // Down, restarting, or refused: the listeners poll meanwhile (they wait with a timeout).
        wake_all_listeners();
        if (on_error) on_error(e);
      }
      std::unique_lock lock(mutex);
      if (stop_requested.wait_for(lock, backoff, [&] { return stopping; })) return;
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, kLastBackoff);
    }
  }

  class Receiver : public pqxx::notification_receiver {
   public:
    Receiver(pqxx::connection_base& conn, const std::string& channel, State& state)
        : pqxx::notification_receiver(conn, channel), state_(state) {}
    void operator()(const std::string& payload, int) override {
      state_.deliver(channel(), payload);
    }

   private:
    State& state_;
  };

  // Keeps the connection's LISTENs equal to the listeners' channels and hands notifications
  // out, until stopping (returns) or the connection breaks (throws).
  void serve(pqxx::connection& conn) {
    std::map<std::string, std::unique_ptr<Receiver>> receivers;  // destroyed before `conn`
    while (true) {
      std::set<std::string> wanted;
      uint64_t upto;
      {
        std::lock_guard lock(mutex);
        if (stopping) return;
        for (const auto& [channel, inbox] : inboxes) wanted.insert(channel);
        upto = requested;
      }
      bool changed = false;
      for (auto it = receivers.begin(); it != receivers.end();) {
        if (wanted.count(it->first) == 0) {
          it = receivers.erase(it);  // UNLISTEN
          changed = true;
        } else {
          ++it;
        }
      }
      for (const auto& channel : wanted) {
        if (receivers.count(channel) != 0) continue;
        receivers.emplace(channel, std::make_unique<Receiver>(conn, channel, *this));  // LISTEN
        changed = true;
      }
      // libpqxx swallows a broken connection in LISTEN; a round trip does not.
      if (changed) pqxx::nontransaction(conn).exec("SELECT 1");
      {
        std::lock_guard lock(mutex);
        if (upto > listened_upto) {
          listened_upto = upto;
          listened.notify_all();
        }
      }
      // A connection found broken throws here or in the round trip above; it is never
      // reactivated (libpqxx would, silently), but replaced by the loop in run().
      if (!conn.is_open()) throw pqxx::broken_connection();
      conn.get_notifs();
      pollfd fds[] = {{conn.sock(), POLLIN, 0}, {wake_fd, POLLIN, 0}};
      ::poll(fds, 2, static_cast<int>(std::chrono::milliseconds(kPollInterval).count()));
      uint64_t count;
      if (fds[1].revents & POLLIN) [[maybe_unused]]
        auto n = ::read(wake_fd, &count, sizeof count);
    }
  }
};

ListenConnection::ListenConnection(std::string url, ErrorObserver on_error)
    : state_(std::make_unique<State>(std::move(url), std::move(on_error))) {
  state_->thread = std::thread([state = state_.get()] { state->run(); });
}

ListenConnection::~ListenConnection() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    state_->listened.notify_all();
    state_->stop_requested.notify_all();
  }
  state_->wake();
  state_->thread.join();
  ::close(state_->wake_fd);
}

Listener::Listener(ListenConnection& connection, const std::string& channel)
    : state_(*connection.state_), channel_(channel), inbox_(std::make_unique<Inbox>()) {
  std::unique_lock lock(state_.mutex);
  auto at = state_.inboxes.emplace(channel_, inbox_.get());
  uint64_t ticket = ++state_.requested;
  state_.wake();
  bool active = state_.listened.wait_for(
      lock, kSubscribeTimeout, [&] { return state_.listened_upto >= ticket || state_.stopping; });
  if (!active || state_.stopping) {
    state_.inboxes.erase(at);
    throw DatabaseUnavailable("no LISTEN connection to the database");
  }
}

Listener::~Listener() {
  {
    std::lock_guard lock(state_.mutex);
    for (auto [it, end] = state_.inboxes.equal_range(channel_); it != end; ++it) {
      if (it->second == inbox_.get()) {
        state_.inboxes.erase(it);
        break;
      }
    }
  }
  state_.wake();  // the last listener of a channel UNLISTENs it
}

void Listener::notify_to(std::function<void()> on_ready) {
  std::lock_guard lock(state_.mutex);
  inbox_->on_ready = std::move(on_ready);
  if (!inbox_->payloads.empty() || inbox_->woken) inbox_->on_ready();
}

std::vector<std::string> Listener::take() {
  std::lock_guard lock(state_.mutex);
  inbox_->woken = false;
  std::vector<std::string> out;
  out.swap(inbox_->payloads);
  return out;
}

std::vector<std::string> Listener::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_.mutex);
  inbox_->ready.wait_for(lock, timeout, [&] { return !inbox_->payloads.empty() || inbox_->woken; });
  inbox_->woken = false;
  std::vector<std::string> out;
  out.swap(inbox_->payloads);
  return out;
}

}  // namespace chatd::sql
