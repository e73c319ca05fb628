// What a long-lived response that follows a LISTEN channel on the reply loop is made of (a
// reader of a running reply, a watcher of the chats): the channel, the response, and the
// keep-alive written whenever nothing else was for an interval. Its owner (held by a
// shared_ptr) decides what news means and when it ends.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/event_loop.hpp"
#include "handlers/http.hpp"
#include "sql/listener.hpp"

namespace chatd::http {

class LiveChannel {
 public:
  LiveChannel(base::EventLoop& loop, std::unique_ptr<sql::Listener> listener,
              std::unique_ptr<LiveResponse> out, std::chrono::milliseconds keepalive_interval,
              std::string keepalive);

  // On the loop, once. `on_news` when the channel has news (take() collects it), `on_ready`
  // when the client took what it was behind on, `on_gone` when a keep-alive found the client
  // gone: each on the loop, and only while `owner` lives.
  void open(std::weak_ptr<void> owner, std::function<void()> on_news,
            std::function<void()> on_ready, std::function<void()> on_gone);

  std::vector<std::string> take() { return listener_->take(); }
  bool behind() const { return out_->behind(); }
  // False once the client is gone.
  bool write(std::string_view data);
  // No more news, no more keep-alives; the response ends once what is queued is sent. Once.
  void close();

 private:
  using Clock = std::chrono::steady_clock;
  void arm_keepalive();

  base::EventLoop& loop_;
  std::unique_ptr<sql::Listener> listener_;
  std::unique_ptr<LiveResponse> out_;
  const std::chrono::milliseconds interval_;
  const std::string keepalive_;
  std::weak_ptr<void> owner_;
  std::function<void()> on_gone_;
  Clock::time_point last_write_ = Clock::now();
  base::EventLoop::TimerId timer_ = 0;
  bool closed_ = false;
};

}  // namespace chatd::http
