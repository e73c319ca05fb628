#include "handlers/watch.hpp"

#include <algorithm>
#include <deque>

#include "handlers/chats.hpp"
#include "handlers/replies.hpp"
#include "sql/channels.hpp"
#include "sql/listener.hpp"

namespace chatd::http {

namespace {

// One watcher of a user's chats on the reply loop: it hears the user's channel (on the worker's
// one LISTEN connection), reads each changed chat (on the loop's database thread, one at a
// time, in the order of the news), and sends it as a Server-Sent Event; a `: ping` comment
// every keep-alive interval. It owns itself, and ends itself when the client is gone.
class LiveWatcher : public std::enable_shared_from_this<LiveWatcher> {
 public:
  LiveWatcher(Context& context, std::string user_id, std::unique_ptr<sql::Listener> listener,
              std::unique_ptr<LiveResponse> out)
      : context_(context),
        user_id_(std::move(user_id)),
        listener_(std::move(listener)),
        out_(std::move(out)) {}

  // On the loop.
  void start() {
    self_ = shared_from_this();
    auto& loop = context_.reply_loop->loop;
    std::weak_ptr<LiveWatcher> weak = weak_from_this();
    out_->attach(loop, [weak] {
      if (auto self = weak.lock()) self->next();
    });
    listener_->notify_to([weak, &loop] {
      loop.post([weak] {
        if (auto self = weak.lock()) self->heard();
      });
    });
    write(": watching\n\n");  // it listens: a client knows nothing is missed from now on
    arm_keepalive();
  }

 private:
  using Clock = std::chrono::steady_clock;

  void heard() {
    if (ended_) return;
    for (auto& payload : listener_->take()) {
      auto news = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
      if (!news.is_object() || !news["kind"].is_string() || !news["chat"].is_string()) continue;
      Change change{news["kind"].get<std::string>(), news["chat"].get<std::string>()};
      // The same change still waiting says it already: the chat is read when it is sent.
      if (std::find(pending_.begin(), pending_.end(), change) != pending_.end()) continue;
      if (pending_.size() == kMaxPending) return end();  // far behind: the client reconnects
      pending_.push_back(std::move(change));
    }
    next();
  }

  // Reads the next changed chat when nothing is being read and the client is not behind.
  void next() {
    if (ended_ || reading_ || pending_.empty() || out_->behind()) return;
    Change change = std::move(pending_.front());
    pending_.pop_front();
    if (change.kind == "deleted") {
      send(change.kind, {{"id", change.chat_id}});
      return next();
    }
    reading_ = true;
    auto chat = std::make_shared<std::optional<sql::ChatRecord>>();
    context_.reply_loop->store.run(
        [&chats = context_.store.chats, id = change.chat_id, user = user_id_, chat] {
          try {
            *chat = chats.find(id, user);
          } catch (const std::exception&) {
            // The database is away: this change is not told; the next one reads again.
          }
        },
        [self = shared_from_this(), kind = change.kind, chat] {
          self->reading_ = false;
          // Gone meanwhile: its "deleted" follows.
          if (*chat) self->send(kind, chat_json(**chat));
          self->next();
        });
  }

  void send(const std::string& kind, const nlohmann::ordered_json& chat) {
    if (ended_) return;
    nlohmann::ordered_json event = {{"kind", kind}, {"chat", chat}};
    write("data: " + escape_html_in_json(event.dump()) + "\n\n");
  }

  void write(const std::string& text) {
    last_write_ = Clock::now();
    if (!out_->write(text)) end();
  }

  void arm_keepalive() {
    auto interval = context_.reply.options.keepalive_interval;
    keepalive_ = context_.reply_loop->loop.at(
        last_write_ + interval, [weak = std::weak_ptr<LiveWatcher>(shared_from_this())] {
          auto self = weak.lock();
          if (!self || self->ended_) return;
          self->keepalive_ = 0;
          if (Clock::now() - self->last_write_ >= self->context_.reply.options.keepalive_interval)
            self->write(": ping\n\n");
          if (!self->ended_) self->arm_keepalive();
        });
  }

  void end() {
    if (ended_) return;
    ended_ = true;
    if (keepalive_) context_.reply_loop->loop.cancel(keepalive_);
    listener_.reset();  // no more news
    out_->finish({});
    context_.reply_loop->loop.post([self = std::move(self_)] {});  // let go after this call
  }

  struct Change {
    std::string kind;
    std::string chat_id;
    bool operator==(const Change&) const = default;
  };
  static constexpr size_t kMaxPending = 1024;

  Context& context_;
  const std::string user_id_;
  std::unique_ptr<sql::Listener> listener_;
  std::unique_ptr<LiveResponse> out_;
  std::deque<Change> pending_;
  Clock::time_point last_write_ = Clock::now();
  base::EventLoop::TimerId keepalive_ = 0;
  bool reading_ = false;
  bool ended_ = false;
  std::shared_ptr<LiveWatcher> self_;  // from start() to end(): it owns itself
};

}  // namespace

void watch_chats(Context& context, Request& request, ResponseWriter& out) {
  const std::string& user_id = request.identity->user_id;
  // LISTEN before the headers: nothing changed after the client saw them is missed.
  auto listener =
      std::make_unique<sql::Listener>(context.listen_connection, sql::user_channel(user_id));
  out.start(200, {{"Content-Type", "text/event-stream"},
                  {"Cache-Control", "no-cache"},
                  {"X-Accel-Buffering", "no"}});
  auto watcher =
      std::make_shared<LiveWatcher>(context, user_id, std::move(listener), out.go_live());
  context.reply_loop->loop.post([watcher] { watcher->start(); });
}

}  // namespace chatd::http
