#include "handlers/live_channel.hpp"

namespace chatd::http {

LiveChannel::LiveChannel(base::EventLoop& loop, std::unique_ptr<sql::Listener> listener,
                         std::unique_ptr<LiveResponse> out,
                         std::chrono::milliseconds keepalive_interval, std::string keepalive)
    : loop_(loop),
      listener_(std::move(listener)),
      out_(std::move(out)),
      interval_(keepalive_interval),
      keepalive_(std::move(keepalive)) {}

void LiveChannel::open(std::weak_ptr<void> owner, std::function<void()> on_news,
                       std::function<void()> on_ready, std::function<void()> on_gone) {
  owner_ = owner;
  on_gone_ = std::move(on_gone);
  out_->attach(loop_, [owner, on_ready = std::move(on_ready)] {
    if (auto alive = owner.lock()) on_ready();
  });
  listener_->notify_to([owner, on_news = std::move(on_news), &loop = loop_] {
    loop.post([owner, on_news] {
      if (auto alive = owner.lock()) on_news();
    });
  });
  arm_keepalive();
}

bool LiveChannel::write(std::string_view data) {
  last_write_ = Clock::now();
  return out_->write(data);
}

void LiveChannel::arm_keepalive() {
  timer_ = loop_.at(last_write_ + interval_, [this, owner = owner_] {
    auto alive = owner.lock();
    if (!alive || closed_) return;
    timer_ = 0;
    if (Clock::now() - last_write_ >= interval_ && !write(keepalive_)) return on_gone_();
    arm_keepalive();
  });
}

void LiveChannel::close() {
  if (closed_) return;
  closed_ = true;
  if (timer_) loop_.cancel(timer_);
  listener_.reset();  // no more news
  out_->finish({});
}

}  // namespace chatd::http
