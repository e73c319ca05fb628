// LISTEN on PostgreSQL channels. A worker holds one connection for all of its listeners (the
// interrupt channel, and the chat of every reply some request follows): followers cost no
// connection, so a worker's connections stay at its pool's size plus one, whatever its readers.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chatd::sql {

// The worker's LISTEN connection and the thread that reads it. It connects in the
// background and reconnects when the connection breaks; after a reconnection every listener
// wakes with no payload, since a notification may have been missed meanwhile.
class ListenConnection {
 public:
  // `on_error` is told, on the connection's thread, why a connection failed or broke.
  using ErrorObserver = std::function<void(const std::exception& error)>;
  ListenConnection(std::string url, ErrorObserver on_error);
  ~ListenConnection();
  ListenConnection(const ListenConnection&) = delete;
  ListenConnection& operator=(const ListenConnection&) = delete;

  struct State;

 private:
  friend class Listener;
  std::unique_ptr<State> state_;
};

// One waiter on one channel of a ListenConnection.
class Listener {
 public:
  // Returns once the channel is LISTENed to, so nothing NOTIFYed afterwards is missed.
  // Throws DatabaseUnavailable when the connection is not up within a few seconds.
  Listener(ListenConnection& connection, const std::string& channel);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Waits up to `timeout` for notifications; returns their payloads, oldest first (empty on
  // timeout or after a reconnection). Keeps at most kMaxPending payloads between two calls.
  std::vector<std::string> wait(std::chrono::milliseconds timeout);

  // Instead of waiting: `on_ready` is called when wait() would return (a notification, or a
  // reconnection), at once if that is so already, on the connection's thread, under its lock:
  // it must only note or post the news (an event loop's post()), and take() collects them.
  void notify_to(std::function<void()> on_ready);
  std::vector<std::string> take();

  static constexpr size_t kMaxPending = 1024;

  struct Inbox;

 private:
  ListenConnection::State& state_;
  std::string channel_;
  std::unique_ptr<Inbox> inbox_;
};

}  // namespace chatd::sql
