// fake_provider: a fake OpenAI / Anthropic / Gemini streaming server for tests and benchmarks.
// One thread, one epoll loop, timers for token pacing. See README.md.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "scenario.hpp"

namespace fake {
namespace {

constexpr size_t kMaxHeader = 64 * 1024;
constexpr size_t kMaxBody = 64 * 1024 * 1024;
constexpr size_t kMaxOut = 16 * 1024 * 1024;

int64_t now_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

const char* reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 529:
      return "Overloaded";
    default:
      return "Status";
  }
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return {};
  size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

struct Conn {
  int fd = -1;
  uint64_t id = 0;
  std::string in;
  std::string out;
  size_t out_off = 0;
  bool epollout = false;
  bool busy = false;  // a request is being answered
  bool keep_alive = true;
  bool chunked = false;
  bool close_after_flush = false;
  bool continue_sent = false;
  std::unique_ptr<Reply> pending;  // a reply waiting for its delay
  std::unique_ptr<StreamRenderer> stream;
  uint64_t timer_gen = 0;
  int64_t due_us = 0;  // when the stream's last op was due (pacing without drift)
};

struct Timer {
  int64_t due_us;
  uint64_t conn;
  uint64_t gen;
  bool operator>(const Timer& o) const { return due_us > o.due_us; }
};

enum class Parse { kIncomplete, kDone, kBad, kTooLarge };

class Server {
 public:
  Server(int listen_fd, FILE* log, bool log_bodies, bool stats)
      : listen_fd_(listen_fd), log_(log), log_bodies_(log_bodies), stats_(stats) {}

  int run() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) return perror("epoll_create1"), 1;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;
    if (epoll_ctl(ep_, EPOLL_CTL_ADD, listen_fd_, &ev) < 0) return perror("epoll_ctl"), 1;
    std::vector<epoll_event> events(1024);
    while (true) {
      // Sleep until the next timer, to the microsecond (epoll_wait would round to 1 ms).
      int64_t wait_us = -1;
      if (!timers_.empty()) wait_us = std::max<int64_t>(0, timers_.top().due_us - now_us());
      if (stats_) {
        int64_t d = next_stats_us_ - now_us();
        if (d <= 0) {
          print_stats();
          d = kStatsEveryUs;
        }
        wait_us = wait_us < 0 ? d : std::min(wait_us, d);
      }
      int n = wait(events, wait_us);
      if (n < 0 && errno != EINTR) return perror("epoll_wait"), 1;
      for (int i = 0; i < n; ++i) {
        uint64_t id = events[i].data.u64;
        if (id == 0) {
          accept_all();
          continue;
        }
        uint32_t e = events[i].events;
        if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
          if (!on_readable(id)) continue;
        }
        if (e & EPOLLOUT) {
          auto it = conns_.find(id);
          if (it != conns_.end()) flush(*it->second);
        }
      }
      int64_t now = now_us();
      while (!timers_.empty() && timers_.top().due_us <= now) {
        Timer t = timers_.top();
        timers_.pop();
        auto it = conns_.find(t.conn);
        if (it == conns_.end() || it->second->timer_gen != t.gen) continue;
        if (stats_) {
          int64_t late = (now - t.due_us) / 100;  // in 0.1 ms
          ++late_hist_[std::min<int64_t>(late, kLateBuckets - 1)];
          late_max_us_ = std::max(late_max_us_, now - t.due_us);
        }
        on_timer(*it->second);
      }
    }
  }

 private:
  int wait(std::vector<epoll_event>& events, int64_t wait_us) {
    int max = static_cast<int>(events.size());
    if (have_pwait2_) {
      timespec ts{wait_us / 1000000, (wait_us % 1000000) * 1000};
      int n = epoll_pwait2(ep_, events.data(), max, wait_us < 0 ? nullptr : &ts, nullptr);
      if (n >= 0 || errno != ENOSYS) return n;
      have_pwait2_ = false;
    }
    return epoll_wait(ep_, events.data(), max,
                      wait_us < 0 ? -1 : static_cast<int>((wait_us + 999) / 1000));
  }

  void accept_all() {
    while (true) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) perror("accept4");
        return;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      c->id = ++next_id_;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = c->id;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) < 0) {
        perror("epoll_ctl");
        ::close(fd);
        continue;
      }
      conns_.emplace(c->id, std::move(c));
    }
  }

  void close_conn(Conn& c) {
    ::close(c.fd);
    conns_.erase(c.id);  // destroys c
  }

  // Returns false when the connection was closed.
  bool on_readable(uint64_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return false;
    Conn& c = *it->second;
    char buf[65536];
    while (true) {
      ssize_t n = recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        if (c.in.size() > kMaxBody + kMaxHeader) {
          close_conn(c);
          return false;
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      close_conn(c);  // EOF or error: the client is gone, whatever we were doing
      return false;
    }
    if (!c.busy) return process_input(c);
    return true;
  }

  void set_epollout(Conn& c, bool on) {
    if (c.epollout == on) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.u64 = c.id;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    c.epollout = on;
  }

  // Returns false when the connection was closed.
  bool flush(Conn& c) {
    while (c.out_off < c.out.size()) {
      ssize_t n = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (c.out.size() - c.out_off > kMaxOut) {
          close_conn(c);
          return false;
        }
        if (c.out_off > 65536) {
          c.out.erase(0, c.out_off);
          c.out_off = 0;
        }
        set_epollout(c, true);
        return true;
      }
      close_conn(c);
      return false;
    }
    c.out.clear();
    c.out_off = 0;
    set_epollout(c, false);
    if (c.close_after_flush) {
      // Read what is left so that close() sends FIN, not RST (which may drop sent data).
      char buf[4096];
      while (recv(c.fd, buf, sizeof buf, 0) > 0) {
      }
      shutdown(c.fd, SHUT_WR);
      close_conn(c);
      return false;
    }
    return true;
  }

  void schedule(Conn& c, int64_t due) {
    c.due_us = due;
    timers_.push({due, c.id, ++c.timer_gen});
  }

  Parse parse(Conn& c, HttpRequest& req) {
    size_t hend = c.in.find("\r\n\r\n");
    if (hend == std::string::npos) {
      return c.in.size() > kMaxHeader ? Parse::kTooLarge : Parse::kIncomplete;
    }
    size_t line_end = c.in.find("\r\n");
    std::string line = c.in.substr(0, line_end);
    size_t s1 = line.find(' ');
    size_t s2 = line.rfind(' ');
    if (s1 == std::string::npos || s2 == s1) return Parse::kBad;
    req.method = line.substr(0, s1);
    req.target = line.substr(s1 + 1, s2 - s1 - 1);
    std::string version = line.substr(s2 + 1);
    if (version.rfind("HTTP/1.", 0) != 0) return Parse::kBad;
    size_t q = req.target.find('?');
    req.path = req.target.substr(0, q);
    req.query = q == std::string::npos ? std::string() : req.target.substr(q + 1);
    req.headers.clear();
    size_t pos = line_end + 2;
    while (pos < hend) {
      size_t e = c.in.find("\r\n", pos);
      std::string h = c.in.substr(pos, e - pos);
      pos = e + 2;
      size_t colon = h.find(':');
      if (colon == std::string::npos) return Parse::kBad;
      req.headers.emplace_back(lower(trim(h.substr(0, colon))), trim(h.substr(colon + 1)));
    }
    const std::string* conn = req.header("connection");
    std::string cv = conn ? lower(*conn) : std::string();
    c.keep_alive = version == "HTTP/1.0" ? cv.find("keep-alive") != std::string::npos
                                         : cv.find("close") == std::string::npos;
    c.chunked = version != "HTTP/1.0";

    size_t body_start = hend + 4;
    size_t consumed = 0;
    const std::string* te = req.header("transfer-encoding");
    if (te && lower(*te).find("chunked") != std::string::npos) {
      req.body.clear();
      size_t p = body_start;
      while (true) {
        size_t e = c.in.find("\r\n", p);
        if (e == std::string::npos) return incomplete(c, req);
        size_t size = std::strtoul(c.in.c_str() + p, nullptr, 16);
        if (size > kMaxBody) return Parse::kTooLarge;
        if (size == 0) {
          size_t t = c.in.find("\r\n\r\n", e);  // trailers end
          if (t == std::string::npos) return incomplete(c, req);
          consumed = t + 4;
          break;
        }
        if (c.in.size() < e + 2 + size + 2) return incomplete(c, req);
        req.body.append(c.in, e + 2, size);
        p = e + 2 + size + 2;
      }
    } else {
      const std::string* cl = req.header("content-length");
      size_t len = cl ? std::strtoull(cl->c_str(), nullptr, 10) : 0;
      if (len > kMaxBody) return Parse::kTooLarge;
      if (c.in.size() < body_start + len) return incomplete(c, req);
      req.body = c.in.substr(body_start, len);
      consumed = body_start + len;
    }
    c.in.erase(0, consumed);
    c.continue_sent = false;
    return Parse::kDone;
  }

  Parse incomplete(Conn& c, const HttpRequest& req) {
    const std::string* expect = req.header("expect");
    if (expect && lower(*expect) == "100-continue" && !c.continue_sent) {
      c.continue_sent = true;
      c.out += "HTTP/1.1 100 Continue\r\n\r\n";
    }
    return Parse::kIncomplete;
  }

  // Handles complete requests in c.in. Returns false when the connection was closed.
  bool process_input(Conn& c) {
    while (!c.busy) {
      HttpRequest req;
      Parse p = parse(c, req);
      if (p == Parse::kIncomplete) return flush(c);
      if (p != Parse::kDone) {
        int status =
            p == Parse::kBad ? 400 : (c.in.find("\r\n\r\n") == std::string::npos ? 431 : 413);
        c.out += "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                 "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        c.close_after_flush = true;
        c.busy = true;
        return flush(c);
      }
      c.busy = true;
      Reply r = fake_.handle(req);
      log(req, r);
      if (r.delay_ms > 0) {
        int64_t due = now_us() + int64_t{r.delay_ms} * 1000;
        c.pending = std::make_unique<Reply>(std::move(r));
        schedule(c, due);
        return flush(c);
      }
      if (!send_reply(c, r)) return false;
    }
    return true;
  }

  void on_timer(Conn& c) {
    if (c.pending) {
      std::unique_ptr<Reply> r = std::move(c.pending);
      if (send_reply(c, *r)) process_input(c);
      return;
    }
    if (c.stream) {
      if (pump(c)) process_input(c);
    }
  }

  // Starts sending `r`. Returns false when the connection was closed.
  bool send_reply(Conn& c, Reply& r) {
    if (r.never) return flush(c);  // stays busy until the client leaves
    if (r.cut) {
      c.close_after_flush = true;
      return flush(c);
    }
    std::string& o = c.out;
    o += "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
    o += "Content-Type: " + r.content_type + "\r\n";
    if (r.stream) {
      o += c.chunked ? "Transfer-Encoding: chunked\r\n" : "";
      if (!c.chunked) c.keep_alive = false;
    } else {
      o += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    }
    o += c.keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    for (const auto& [k, v] : r.headers) o += k + ": " + v + "\r\n";
    o += "\r\n";
    if (r.stream) {
      c.stream = std::move(r.stream);
      c.due_us = now_us();
      return pump(c);
    }
    o += r.body;
    return finish(c);
  }

  // Sends what the stream has due now. Returns false when the connection was closed.
  bool pump(Conn& c) {
    std::string body;
    int delay = 0;
    StreamRenderer::Result res = c.stream->advance(body, delay);
    if (!body.empty()) {
      if (c.chunked) {
        char size[32];
        std::snprintf(size, sizeof size, "%zx\r\n", body.size());
        c.out += size;
        c.out += body;
        c.out += "\r\n";
      } else {
        c.out += body;
      }
    }
    switch (res) {
      case StreamRenderer::kWait:
        schedule(c, c.due_us + int64_t{delay} * 1000);
        return flush(c);
      case StreamRenderer::kDone:
        if (c.chunked) c.out += "0\r\n\r\n";
        c.stream.reset();
        return finish(c);
      case StreamRenderer::kStall:
        return flush(c);
      case StreamRenderer::kCut:
        c.stream.reset();
        c.close_after_flush = true;
        return flush(c);
    }
    return flush(c);
  }

  // The response is complete. Returns false when the connection was closed.
  bool finish(Conn& c) {
    c.busy = false;
    if (!c.keep_alive) c.close_after_flush = true;
    return flush(c);
  }

  void log(const HttpRequest& req, const Reply& r) {
    if (!log_) return;
    using namespace std::chrono;
    auto t = system_clock::now();
    std::time_t secs = system_clock::to_time_t(t);
    int ms = static_cast<int>(duration_cast<milliseconds>(t.time_since_epoch()).count() % 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char when[64];
    std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    nlohmann::ordered_json j = {
        {"time", when},     {"provider", r.provider}, {"method", req.method}, {"path", req.path},
        {"model", r.model}, {"scenario", r.scenario}, {"step", r.step},       {"status", r.status}};
    if (log_bodies_) j["body"] = req.body;
    std::string line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    line += "\n";
    std::fwrite(line.data(), 1, line.size(), log_);
    std::fflush(log_);
  }

  // --stats: every 5 s on stderr, how late the timers fired (what the fake adds to a
  // benchmark's latency), the open connections and the tokens sent.
  void print_stats() {
    int64_t now = now_us();
    uint64_t fired = 0;
    for (uint64_t n : late_hist_) fired += n;
    auto pct = [&](double p) {
      uint64_t want = static_cast<uint64_t>(p * static_cast<double>(fired)), seen = 0;
      for (int i = 0; i < kLateBuckets; ++i) {
        seen += late_hist_[i];
        if (seen > want) return i / 10.0;
      }
      return kLateBuckets / 10.0;
    };
    double secs = static_cast<double>(now - (next_stats_us_ - kStatsEveryUs)) / 1e6;
    if (next_stats_us_ != 0 && fired > 0) {
      std::fprintf(stderr,
                   "stats: conns=%zu timers=%.0f/s lateness p50=%.1fms p99=%.1fms max=%.1fms\n",
                   conns_.size(), static_cast<double>(fired) / secs, pct(0.5), pct(0.99),
                   static_cast<double>(late_max_us_) / 1000.0);
    }
    late_hist_.fill(0);
    late_max_us_ = 0;
    next_stats_us_ = now + kStatsEveryUs;
  }

  static constexpr int kLateBuckets = 1000;  // 0.1 ms each, the last one is "100 ms or more"
  static constexpr int64_t kStatsEveryUs = 5000000;

  int listen_fd_;
  FILE* log_;
  bool log_bodies_;
  bool stats_;
  int64_t next_stats_us_ = 0;
  std::array<uint64_t, kLateBuckets> late_hist_{};
  int64_t late_max_us_ = 0;
  int ep_ = -1;
  bool have_pwait2_ = true;
  uint64_t next_id_ = 0;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  Fake fake_;
};

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s --port N [--log FILE] [--log-bodies] [--stats]\n", argv0);
  return 2;
}

}  // namespace
}  // namespace fake

int main(int argc, char** argv) {
  int port = -1;
  const char* log_path = nullptr;
  bool log_bodies = false;
  bool stats = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--port" && i + 1 < argc) {
      port = std::atoi(argv[++i]);
    } else if (a == "--log" && i + 1 < argc) {
      log_path = argv[++i];
    } else if (a == "--log-bodies") {
      log_bodies = true;
    } else if (a == "--stats") {
      stats = true;
    } else {
      return fake::usage(argv[0]);
    }
  }
  if (port < 0 || port > 65535) return fake::usage(argv[0]);

  std::signal(SIGPIPE, SIG_IGN);
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  FILE* log = nullptr;
  if (log_path) {
    log = std::fopen(log_path, "a");
    if (!log) {
      std::perror(log_path);
      return 1;
    }
  }

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(fd, 4096) < 0) {
    std::perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  fake::Server server(fd, log, log_bodies, stats);
  return server.run();
}
