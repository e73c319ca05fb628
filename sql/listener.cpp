#include "sql/listener.hpp"

#include <pqxx/pqxx>

#include "sql/pool.hpp"

namespace chatd::sql {

namespace {

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::string& channel, std::vector<std::string>& inbox)
      : pqxx::notification_receiver(conn, channel), inbox_(inbox) {}
  void operator()(const std::string& payload, int) override { inbox_.push_back(payload); }

 private:
  std::vector<std::string>& inbox_;
};

}  // namespace

struct Listener::State {
  pqxx::connection conn;
  std::vector<std::string> inbox;
  Receiver receiver;
  State(const std::string& url, const std::string& channel)
      : conn(url), receiver(conn, channel, inbox) {}
};

Listener::Listener(const std::string& url, const std::string& channel) {
  try {
    state_ = std::make_unique<State>(url, channel);
    // The receiver's LISTEN is sent lazily by libpqxx 6; a round trip makes sure it is active.
    pqxx::nontransaction tx(state_->conn);
    tx.exec("SELECT 1");
  } catch (const pqxx::broken_connection& e) {
    throw DatabaseUnavailable(e.what());
  }
}

Listener::~Listener() = default;

std::vector<std::string> Listener::wait(std::chrono::milliseconds timeout) {
  try {
    if (state_->conn.get_notifs() == 0 && state_->inbox.empty()) {
      auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
      auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout - seconds);
      state_->conn.await_notification(seconds.count(), micros.count());
    }
  } catch (const pqxx::broken_connection& e) {
    throw DatabaseUnavailable(e.what());
  }
  std::vector<std::string> out;
  out.swap(state_->inbox);
  return out;
}

}  // namespace chatd::sql
