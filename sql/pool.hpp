// A per-process pool of PostgreSQL connections. A connection is borrowed for one query or
// transaction and given back at once: never held while waiting on anything but the database.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <vector>

namespace chatd::sql {

// The database cannot be reached (down, restarting, or every connection busy for too long).
// Handlers answer 503; the next request tries again.
class DatabaseUnavailable : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Pool {
 public:
  Pool(std::string url, size_t size, std::chrono::milliseconds acquire_timeout);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs fn(pqxx::connection&) on a borrowed connection. A connection found broken is
  // dropped; when `idempotent`, the work is retried once on a fresh connection (this is what
  // makes a PostgreSQL restart invisible to reads). Throws DatabaseUnavailable when no
  // working connection can be had.
  template <class Fn>
  auto run(Fn&& fn, bool idempotent = true) {
    for (int attempt = 0;; ++attempt) {
      Lease lease(*this);
      try {
        return fn(lease.conn());
      } catch (const pqxx::broken_connection& e) {
        lease.discard();
        if (!idempotent || attempt > 0) throw DatabaseUnavailable(e.what());
      }
    }
  }

  size_t size() const { return size_; }

  // Called when a borrower had to wait for a connection (every one was in use): how long, and
  // whether it gave up (DatabaseUnavailable). For the metrics; set before the pool is used.
  using WaitObserver = std::function<void(std::chrono::microseconds waited, bool timed_out)>;
  void set_wait_observer(WaitObserver observer) { on_wait_ = std::move(observer); }

 private:
  class Lease {
   public:
    explicit Lease(Pool& pool);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    pqxx::connection& conn() { return *conn_; }
    void discard() { conn_.reset(); }

   private:
    Pool& pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  std::unique_ptr<pqxx::connection> acquire();
  void release(std::unique_ptr<pqxx::connection> conn);
  std::unique_ptr<pqxx::connection> connect();

  const std::string url_;
  const size_t size_;
  const std::chrono::milliseconds acquire_timeout_;
  WaitObserver on_wait_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  size_t in_use_ = 0;  // borrowed, or being connected
};

}  // namespace chatd::sql
