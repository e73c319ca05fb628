#include "worker/live_connection.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/event_loop.hpp"
#include "worker/fcgi_framer.hpp"
#include "worker/fcgi_io.hpp"

namespace chatd {

using Clock = base::EventLoop::Clock;

void RequestEnd::response_ended(const http::ResponseEnd& end, uint64_t bytes) {
  Log log;
  {
    std::lock_guard lock(mutex_);
    if (!log_) {
      ended_.emplace(end, bytes);
      return;
    }
    log = std::move(log_);
  }
  log(end, bytes);
}

void RequestEnd::log_with(Log log) {
  {
    std::lock_guard lock(mutex_);
    if (!ended_) {
      log_ = std::move(log);
      return;
    }
  }
  log(ended_->first, ended_->second);
}

struct LiveConnection::State : std::enable_shared_from_this<State> {
  State(int fd, uint16_t request_id, std::string pending, bool gone,
        std::shared_ptr<RequestEnd> end, base::InFlight& open)
      : fd(fd),
        request_id(request_id),
        pending(std::move(pending)),
        gone(gone),
        end(std::move(end)),
        open(open) {
    open.add();
  }

  size_t unsent() const { return pending.size() - sent; }
  void send();
  void watch();
  void arm_deadline();
  void lost();
  void close();
  void ready() {
    if (!on_ready) return;
    loop->post([weak = weak_from_this()] {
      if (auto self = weak.lock(); self && self->on_ready) self->on_ready();
    });
  }

  base::EventLoop* loop = nullptr;
  const int fd;
  const uint16_t request_id;
  std::string pending;  // records; the first `sent` bytes of it went out
  size_t sent = 0;
  bool gone;
  bool was_behind = false;
  bool finished = false;
  bool closed = false;
  uint32_t watched = 0;  // the events asked of the loop (0: not watched)
  uint64_t bytes = 0;    // of the response, records not counted
  Clock::time_point progress_at = Clock::now();
  base::EventLoop::TimerId deadline = 0;
  std::function<void()> on_ready;
  std::shared_ptr<RequestEnd> end;
  http::ResponseEnd end_notes;
  base::InFlight& open;
};

void LiveConnection::State::send() {
  while (!gone && unsent() > 0) {
    ssize_t n = ::send(fd, pending.data() + sent, unsent(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      progress_at = Clock::now();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return lost();  // closed or failed: what was half sent is of no use
  }
  if (gone) return;
  if (unsent() == 0) {
    pending.clear();
    sent = 0;
  } else if (sent >= kBehindAbove) {
    pending.erase(0, sent);
    sent = 0;
  }
  if (finished && unsent() == 0) return close();
  watch();
  if (unsent() > 0) arm_deadline();
  if (was_behind && unsent() <= kBehindAbove) {
    was_behind = false;
    ready();
  }
}

// Readable means closed (nginx sends nothing more once the request is read); writable matters
// only while something waits to be sent.
void LiveConnection::State::watch() {
  uint32_t events = EPOLLIN | EPOLLRDHUP | (unsent() > 0 ? EPOLLOUT : 0u);
  if (!loop || events == watched) return;
  watched = events;
  loop->watch(fd, events, [weak = weak_from_this()](uint32_t ready) {
    auto self = weak.lock();
    if (!self || self->closed) return;
    if (ready & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      char scrap[512];
      ssize_t n = ::recv(self->fd, scrap, sizeof scrap, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
          (ready & (EPOLLHUP | EPOLLERR)))
        return self->lost();
    }
    if (ready & EPOLLOUT) self->send();
  });
}

void LiveConnection::State::arm_deadline() {
  if (deadline || !loop) return;
  deadline = loop->at(progress_at + write_deadline(unsent()), [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    self->deadline = 0;
    if (self->gone || self->closed || self->unsent() == 0) return;
    if (Clock::now() - self->progress_at >= write_deadline(self->unsent())) return self->lost();
    self->arm_deadline();
  });
}

// The client is gone: nothing more is sent, the reply hears of it (on_ready, then a write that
// fails), and the connection closes.
void LiveConnection::State::lost() {
  gone = true;
  pending.clear();
  sent = 0;
  ready();
  close();
}

void LiveConnection::State::close() {
  if (closed) return;
  closed = true;
  if (deadline) loop->cancel(deadline);
  deadline = 0;
  if (watched) loop->unwatch(fd);
  watched = 0;
  ::close(fd);
  open.remove();
  if (finished) end->response_ended(end_notes, bytes);
}

LiveConnection::LiveConnection(int fd, uint16_t request_id, std::string pending, bool gone,
                               std::shared_ptr<RequestEnd> end, base::InFlight& open)
    : state_(std::make_shared<State>(fd, request_id, std::move(pending), gone, std::move(end),
                                     open)) {}

LiveConnection::~LiveConnection() {
  // Not finished: the response is cut (nginx sees its upstream close without the end records).
  if (!state_->finished) {
    state_->finished = true;
    state_->end_notes.failure = "the response was dropped";
    state_->gone = true;
    state_->close();
  }
  // Finished: the state lives on in the loop until what is queued is sent.
}

void LiveConnection::attach(base::EventLoop& loop, std::function<void()> on_ready) {
  state_->loop = &loop;
  state_->on_ready = std::move(on_ready);
  if (state_->gone) return state_->close();
  state_->send();
}

bool LiveConnection::write(std::string_view data) {
  State& s = *state_;
  if (s.gone || s.finished) return false;
  bool idle = s.unsent() == 0;
  fcgi::append_stdout(s.pending, s.request_id, data);
  s.bytes += data.size();
  if (idle || s.unsent() > kBehindAbove) s.send();  // else EPOLLOUT sends it
  if (s.unsent() > kBehindAbove) s.was_behind = true;
  return !s.gone;
}

bool LiveConnection::behind() const { return !state_->gone && state_->unsent() > kBehindAbove; }

void LiveConnection::finish(const http::ResponseEnd& end) {
  State& s = *state_;
  if (s.finished) return;
  s.finished = true;
  s.end_notes = end;
  if (s.closed) return s.end->response_ended(s.end_notes, s.bytes);  // the client left before
  if (s.gone) return s.close();
  fcgi::append_end(s.pending, s.request_id);
  s.send();
}

}  // namespace chatd
