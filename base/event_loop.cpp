#include "base/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace chatd::base {

namespace {

// The wake-up eventfd's slot in epoll_event::data (a watched fd is stored with its
// generation, which is never 0).
constexpr uint64_t kWake = 0;

int checked(int fd, const char* what) {
  if (fd < 0) throw std::system_error(errno, std::generic_category(), what);
  return fd;
}

uint64_t key(int fd, uint32_t generation) {
  return static_cast<uint64_t>(generation) << 32 | static_cast<uint32_t>(fd);
}

}  // namespace

EventLoop::EventLoop()
    : epoll_fd_(checked(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")),
      wake_fd_(checked(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd")) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWake;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl");
}

EventLoop::~EventLoop() {
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void EventLoop::watch(int fd, uint32_t events, FdCallback callback) {
  auto found = watches_.find(fd);
  bool known = found != watches_.end();
  uint32_t generation = known ? found->second.generation : next_generation_++;
  if (next_generation_ == 0) next_generation_ = 1;
  epoll_event event{};
  event.events = events;
  event.data.u64 = key(fd, generation);
  if (::epoll_ctl(epoll_fd_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event) != 0)
    throw std::system_error(errno, std::generic_category(), "epoll_ctl");
  watches_[fd] = Watch{generation, std::make_shared<FdCallback>(std::move(callback))};
}

void EventLoop::unwatch(int fd) {
  if (watches_.erase(fd) == 0) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);  // fails harmlessly for a closed fd
}

EventLoop::TimerId EventLoop::at(Clock::time_point when, Task task) {
  TimerId id = next_timer_++;
  timers_.emplace(std::make_pair(when, id), std::move(task));
  timer_times_.emplace(id, when);
  return id;
}

void EventLoop::cancel(TimerId id) {
  auto found = timer_times_.find(id);
  if (found == timer_times_.end()) return;
  timers_.erase({found->second, id});
  timer_times_.erase(found);
}

void EventLoop::post(Task task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::stop() {
  {
    std::lock_guard lock(posted_mutex_);
    stopping_ = true;
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::run() {
  while (true) {
    {
      std::lock_guard lock(posted_mutex_);
      if (stopping_) {
        stopping_ = false;
        return;
      }
    }
    run_once(std::chrono::milliseconds(-1));
  }
}

void EventLoop::run_posted() {
  std::vector<Task> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void EventLoop::run_due_timers() {
  // The timers due when this round began, one at a time (a task may cancel the next); one that
  // a task sets for now is later than that and runs next round.
  auto now = Clock::now();
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto first = timers_.begin();
    Task task = std::move(first->second);
    timer_times_.erase(first->first.second);
    timers_.erase(first);
    task();
  }
}

void EventLoop::run_once(std::chrono::milliseconds timeout) {
  int wait_ms = static_cast<int>(timeout.count());
  if (!timers_.empty()) {
    auto until =
        std::chrono::ceil<std::chrono::milliseconds>(timers_.begin()->first.first - Clock::now());
    int timer_ms = static_cast<int>(std::max<int64_t>(0, until.count()));
    wait_ms = wait_ms < 0 ? timer_ms : std::min(wait_ms, timer_ms);
  }
  {
    std::lock_guard lock(posted_mutex_);
    if (!posted_.empty() || stopping_) wait_ms = 0;
  }
  epoll_event events[64];
  int n = ::epoll_wait(epoll_fd_, events, 64, wait_ms);
  for (int i = 0; i < n; ++i) {
    uint64_t data = events[i].data.u64;
    if (data == kWake) {
      uint64_t count;
      [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof count);
      continue;
    }
    int fd = static_cast<int>(data & 0xFFFFFFFF);
    auto found = watches_.find(fd);
    // Unwatched (or unwatched and watched again) by an earlier callback of this round.
    if (found == watches_.end() || key(fd, found->second.generation) != data) continue;
    auto callback = found->second.callback;
    (*callback)(events[i].events);
  }
  run_due_timers();
  run_posted();
}

}  // namespace chatd::base
