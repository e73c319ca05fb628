// An epoll event loop: file descriptors, timers, and work posted from other threads, all run on
// the one thread that calls run(). The reply loop of a worker is one (DESIGN.md "reply loop"):
// libcurl's multi interface, the FastCGI connections to nginx and the database helpers' answers
// meet here. Callbacks run one at a time and must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace chatd::base {

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using FdCallback = std::function<void(uint32_t events)>;  // EPOLLIN, EPOLLOUT, EPOLLERR, ...
  using Task = std::function<void()>;
  using TimerId = uint64_t;

  EventLoop();  // throws std::system_error when epoll or eventfd cannot be had
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // On the loop's thread only. Calls `callback` when `fd` is ready for `events` (level
  // triggered); watching a watched fd replaces its events and callback. After unwatch(), no
  // event of that fd reaches its callback, not even one already fetched in this round.
  void watch(int fd, uint32_t events, FdCallback callback);
  void unwatch(int fd);

  // On the loop's thread only. Runs `task` once, at `when` or soon after; cancel() before
  // then prevents it (a cancelled or spent id is ignored).
  TimerId at(Clock::time_point when, Task task);
  TimerId after(Clock::duration delay, Task task) {
    return at(Clock::now() + delay, std::move(task));
  }
  void cancel(TimerId id);

  // From any thread: runs `task` on the loop's thread, in the order posted.
  void post(Task task);

  // Runs until stop() (from any thread, or a callback).
  void run();
  void stop();
  // One round, for tests: waits up to `timeout` for something to do, does what is due.
  void run_once(std::chrono::milliseconds timeout);

 private:
  struct Watch {
    uint32_t generation;
    std::shared_ptr<FdCallback> callback;  // kept alive while it runs, should it unwatch itself
  };

  void run_posted();
  void run_due_timers();

  const int epoll_fd_;
  const int wake_fd_;
  std::unordered_map<int, Watch> watches_;
  uint32_t next_generation_ = 1;
  std::map<std::pair<Clock::time_point, TimerId>, Task> timers_;
  std::unordered_map<TimerId, Clock::time_point> timer_times_;
  TimerId next_timer_ = 1;
  std::mutex posted_mutex_;
  std::vector<Task> posted_;
  bool stopping_ = false;  // under posted_mutex_
};

}  // namespace chatd::base
