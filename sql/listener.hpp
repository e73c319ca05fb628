// LISTEN on a PostgreSQL channel, on a connection of its own (a listening connection is held
// for as long as someone listens, so it never comes from the request pool).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace chatd::sql {

class Listener {
 public:
  // Connects and LISTENs before returning, so nothing NOTIFYed afterwards is missed. Throws
  // DatabaseUnavailable.
  Listener(const std::string& url, const std::string& channel);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Waits up to `timeout` for notifications; returns their payloads (empty on timeout).
  // Throws DatabaseUnavailable when the connection breaks.
  std::vector<std::string> wait(std::chrono::milliseconds timeout);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace chatd::sql
