#include "handlers/watch.hpp"

#include <algorithm>
#include <deque>

#include "handlers/chats.hpp"
#include "handlers/live_channel.hpp"
#include "handlers/replies.hpp"
#include "sql/channels.hpp"
#include "sql/listener.hpp"

namespace chatd::http {

namespace {

// One watcher of a user's chats on the reply loop: it hears the user's channel (on the worker's
// one LISTEN connection), reads each changed chat (on the loop's database thread, one at a
// time, in the order of the news), and sends it as a Server-Sent Event. It owns itself, and ends
// itself when the client is gone.
class LiveWatcher : public std::enable_shared_from_this<LiveWatcher> {
 public:
  LiveWatcher(Context& context, std::string user_id, std::unique_ptr<sql::Listener> listener,
              std::unique_ptr<LiveResponse> out)
      : context_(context),
        user_id_(std::move(user_id)),
        channel_(context.reply_loop->loop, std::move(listener), std::move(out),
                 context.reply.options.keepalive_interval, ": ping\n\n") {}

  // On the loop.
  void start() {
    self_ = shared_from_this();
    channel_.open(
        weak_from_this(), [this] { heard(); }, [this] { next(); }, [this] { end(); });
    write(": watching\n\n");  // it listens: a client knows nothing is missed from now on
  }

 private:
  void heard() {
    if (ended_) return;
    for (auto& payload : channel_.take()) {
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
    if (ended_ || reading_ || pending_.empty() || channel_.behind()) return;
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
    if (!channel_.write(text)) end();
  }

  void end() {
    if (ended_) return;
    ended_ = true;
    channel_.close();
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
  LiveChannel channel_;  // the user's channel, the response, its `: ping` comments
  std::deque<Change> pending_;
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
