#include "handlers/replies.hpp"

#include <charconv>

#include "base/json_text.hpp"
#include "handlers/chats.hpp"
#include "handlers/error.hpp"
#include "handlers/live_channel.hpp"
#include "handlers/observer.hpp"
#include "sql/channels.hpp"
#include "sql/error_text.hpp"

namespace chatd::http {

namespace {

using Clock = std::chrono::steady_clock;

// Checkpoints: about one write a second when nobody follows, every 50 ms when someone does.
constexpr auto kCheckpointInterval = std::chrono::seconds(1);
constexpr auto kFollowedInterval = std::chrono::milliseconds(50);

// PostgreSQL's substr() counts characters: a reader's offset in the parts is in characters.
size_t characters(std::string_view utf8) {
  size_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::shared_ptr<std::atomic<bool>> ReplyRegistry::add(const std::string& chat_id) {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  std::lock_guard lock(mutex_);
  running_[chat_id] = flag;
  return flag;
}

void ReplyRegistry::remove(const std::string& chat_id) {
  std::lock_guard lock(mutex_);
  running_.erase(chat_id);
  if (running_.empty()) emptied_.notify_all();
}

bool ReplyRegistry::wait_empty(std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mutex_);
  return emptied_.wait_until(lock, deadline, [&] { return running_.empty(); });
}

void ReplyRegistry::cancel(const std::string& chat_id) {
  std::lock_guard lock(mutex_);
  if (auto it = running_.find(chat_id); it != running_.end()) it->second->store(true);
}

std::vector<std::string> ReplyRegistry::chat_ids() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  ids.reserve(running_.size());
  for (const auto& [chat_id, cancelled] : running_) ids.push_back(chat_id);
  return ids;
}

const Headers& stream_headers() {
  static const Headers headers = {{"Content-Type", "text/plain; charset=utf-8"},
                                  {"X-Vercel-AI-Data-Stream", "v1"},
                                  {"Cache-Control", "no-cache"},
                                  {"X-Accel-Buffering", "no"}};
  return headers;
}

ReplyRecorder::ReplyRecorder(Context& context, std::string chat_id, std::string message_id,
                             llm::PartSink& client)
    : context_(context),
      chat_id_(std::move(chat_id)),
      message_id_(std::move(message_id)),
      client_(client),
      cancelled_(context.replies.add(chat_id_)),
      last_checkpoint_(Clock::now()) {}

ReplyRecorder::~ReplyRecorder() { context_.replies.remove(chat_id_); }

bool ReplyRecorder::write_line(std::string_view line) {
  if (line != "\n") pending_ += line;  // keep-alives are for this connection only
  if (!client_gone_ && !client_.write_line(line)) client_gone_ = true;
  return !client_gone_;
}

sql::ReplyProgress ReplyRecorder::take() {
  sql::ReplyProgress progress{written_, std::move(pending_), std::nullopt};
  pending_.clear();
  if (call_in_flight_) progress.call = call_in_flight_();
  return progress;
}

llm::TickVerdict ReplyRecorder::tick() {
  auto now = Clock::now();
  auto interval = readers_ > 0 && !pending_.empty()
                      ? std::chrono::duration_cast<Clock::duration>(kFollowedInterval)
                      : std::chrono::duration_cast<Clock::duration>(kCheckpointInterval);
  if (!in_flight_ && !gone_ && !refused_ && now - last_checkpoint_ >= interval) {
    last_checkpoint_ = now;
    in_flight_ = true;
    auto progress = take();
    context_.reply_loop->store.checkpoint(
        {chat_id_, message_id_, progress},
        [this, progress](ReplyStoreThread::Checkpointed answer) mutable {
          checkpointed(std::move(progress), std::move(answer));
        });
  }
  if (refused_) return llm::TickVerdict::kFail;
  // Recovered as dead meanwhile: nobody wants this reply.
  return gone_ || cancelled_->load() ? llm::TickVerdict::kStop : llm::TickVerdict::kGoOn;
}

void ReplyRecorder::checkpointed(sql::ReplyProgress progress,
                                 ReplyStoreThread::Checkpointed answer) {
  in_flight_ = false;
  switch (answer.outcome) {
    case ReplyStoreThread::Checkpointed::kRunning:
      written_ += characters(progress.parts);
      readers_ = answer.answer.readers;
      if (answer.answer.cancel_requested) cancelled_->store(true);
      break;
    case ReplyStoreThread::Checkpointed::kGone:
      gone_ = true;
      break;
    case ReplyStoreThread::Checkpointed::kUnavailable:
      // The database is away: keep the parts for the next checkpoint (from the same place:
      // it replaces what this one may have written), keep generating.
      pending_ = progress.parts + pending_;
      break;
    case ReplyStoreThread::Checkpointed::kRefused:
      // It refused the record itself: going on would only lose more (and, without a
      // heartbeat, let another worker take the reply for dead).
      refused_ = true;
      failure_ = answer.error;
      break;
  }
  if (auto finish = std::move(finish_pending_)) finish();
}

void ReplyRecorder::finish(std::string message, llm::FinishReason finish_reason, bool interrupted,
                           const llm::Usage& usage, std::function<void()> done) {
  if (in_flight_) {
    finish_pending_ = [this, message = std::move(message), finish_reason, interrupted, usage,
                       done = std::move(done)]() mutable {
      finish(std::move(message), finish_reason, interrupted, usage, std::move(done));
    };
    return;
  }
  // The store keeps the reason as the data stream spells it.
  auto job = [this, progress = take(), message = std::move(message),
              reason = llm::wire_name(finish_reason), interrupted, usage]() {
    if (!refused_) {
      try {
        if (!context_.store.replies.finish(chat_id_, message_id_, progress, message,
                                           {std::string(reason), interrupted}, usage.prompt_tokens,
                                           usage.completion_tokens))
          // Its heartbeat was missed for 5 s (a stalled worker): what recovery stored from
          // the checkpoints stands, not what was streamed. Said in the request's log line.
          failure_ = "the reply was recovered as dead before it ended";
        return;
      } catch (const sql::DatabaseUnavailable& e) {
        failure_ = sql::error_text(e);  // recovery finishes it from its parts
        return;
      } catch (const std::exception& e) {
        failure_ = sql::error_text(e);
      }
    }
    store_checkpointed(usage);
  };
  context_.reply_loop->store.run(std::move(job), std::move(done));
}

// On the loop's database thread: the record was refused, so what it holds is stored.
void ReplyRecorder::store_checkpointed(const llm::Usage& usage) {
  auto& store = context_.store.replies;
  const sql::ReplyEnd failed{std::string(llm::wire_name(llm::FinishReason::kError)), true};
  try {
    auto record = store.read(chat_id_, 0);
    if (!record || record->message_id != message_id_) return;  // not this reply's any more
    try {
      store.finish(chat_id_, message_id_, {}, checkpointed_message(*record), failed,
                   usage.prompt_tokens, usage.completion_tokens);
    } catch (const sql::DatabaseUnavailable&) {
      throw;
    } catch (const std::exception&) {
      store.finish(chat_id_, message_id_, {}, std::nullopt, failed, usage.prompt_tokens,
                   usage.completion_tokens);  // that is refused too: the chat is freed
    }
  } catch (const std::exception&) {
    // Recovery finishes it from its parts.
  }
}

std::optional<std::string> checkpointed_message(const sql::ReplyRead& reply) {
  if (reply.parts.empty()) return std::nullopt;
  return base::json_text(llm::rebuild_message(reply.message_id, reply.started_at, reply.parts));
}

namespace {

// A reader of a running reply on the reply loop: it reads the reply's new parts (on the loop's
// database thread) whenever the reply's channel says there are some, sends them, and ends with
// the reply. It owns itself, and ends itself.
class LiveFollower : public std::enable_shared_from_this<LiveFollower> {
 public:
  LiveFollower(Context& context, std::string chat_id, std::string reply_id, size_t after,
               std::unique_ptr<sql::Listener> listener, std::unique_ptr<LiveResponse> out)
      : context_(context),
        chat_id_(std::move(chat_id)),
        reply_id_(std::move(reply_id)),
        after_(after),
        channel_(context.reply_loop->loop, std::move(listener), std::move(out),
                 context.reply.options.keepalive_interval, "\n") {}

  // On the loop, with the first read.
  void start(std::optional<sql::ReplyRead> read) {
    self_ = shared_from_this();
    channel_.open(
        weak_from_this(),
        [this] {
          notified_ = true;
          next();
        },
        [this] { next(); }, [this] { end(); });
    take(std::move(read));
  }

 private:
  // Reads again when there is news, nothing is being read, and the client is not behind.
  void next() {
    if (ended_ || reading_ || !notified_ || channel_.behind()) return;
    notified_ = false;
    channel_.take();
    reading_ = true;
    auto read = std::make_shared<std::optional<sql::ReplyRead>>();
    auto failed = std::make_shared<bool>(false);
    context_.reply_loop->store.run(
        [&replies = context_.store.replies, chat_id = chat_id_, offset = offset_, read, failed] {
          try {
            *read = replies.read(chat_id, offset);
          } catch (const std::exception&) {
            *failed = true;  // the database is away: the next news reads again
          }
        },
        [self = shared_from_this(), read, failed] {
          self->reading_ = false;
          if (*failed) {
            self->notified_ = true;
            return;
          }
          self->take(std::move(*read));
        });
  }

  void take(std::optional<sql::ReplyRead> read) {
    if (ended_) return;
    bool same_reply = read && read->message_id == reply_id_;
    if (same_reply && !send(read->parts)) return end();  // the reader left
    if (!same_reply || read->finished) {
      // A reply that ended without its `d`: its chat was deleted (no row), or its worker died.
      if (last_line_.rfind("d:", 0) != 0 && last_line_.rfind("3:", 0) != 0)
        send(llm::encode_part('3', read ? "The reply was interrupted by a server failure."
                                        : "The chat was deleted."));
      return end();
    }
    next();
  }

  // Checkpoints hold whole lines only.
  bool send(std::string_view parts) {
    offset_ += characters(parts);
    std::string batch;
    for (size_t start = 0; start < parts.size();) {
      size_t end = parts.find('\n', start);
      if (end == std::string_view::npos) end = parts.size() - 1;
      std::string_view line = parts.substr(start, end - start + 1);
      if (seen_++ >= after_) batch += line;
      last_line_ = line;
      start = end + 1;
    }
    return batch.empty() || channel_.write(batch);
  }

  void end() {
    if (ended_) return;
    ended_ = true;
    channel_.close();
    context_.reply_loop->store.run(
        [&replies = context_.store.replies, chat_id = chat_id_, reply_id = reply_id_] {
          try {
            replies.leave(chat_id, reply_id);
          } catch (...) {
          }
        },
        [self = std::move(self_)] {});  // let go once it has left
  }

  Context& context_;
  const std::string chat_id_;
  const std::string reply_id_;
  const size_t after_;
  LiveChannel channel_;  // the reply's channel, the response, its keep-alive newlines
  size_t offset_ = 0;    // characters of the parts read so far
  size_t seen_ = 0;      // parts read so far (sent, or skipped by `after`)
  std::string last_line_;
  bool notified_ = false;
  bool reading_ = false;
  bool ended_ = false;
  std::shared_ptr<LiveFollower> self_;  // from start() to end(): it owns itself
};

}  // namespace

bool follow_reply(Context& context, const std::string& chat_id, size_t after, ResponseWriter& out,
                  const std::string& message_id) {
  auto running = [&](const std::optional<sql::ReplyRead>& read) {
    return read && !read->finished && (message_id.empty() || read->message_id == message_id);
  };
  auto read = context.store.replies.read(chat_id, 0);
  if (!running(read)) return false;
  const std::string reply_id = read->message_id;
  if (!context.store.replies.join(chat_id, reply_id, context.reply.max_readers_per_reply)) {
    read = context.store.replies.read(chat_id, 0);
    if (!running(read) || read->message_id != reply_id) return false;  // it ended meanwhile
    throw ApiError(429, "Too many readers follow this reply; try again when one has left.", {}, {},
                   {{"Retry-After", "5"}});
  }
  std::unique_ptr<LiveResponse> live;
  std::unique_ptr<sql::Listener> listener;
  try {
    // LISTEN, then read again from the start: nothing announced in between is missed. (The
    // worker's one LISTEN connection carries it: a follower holds no connection of its own.)
    listener =
        std::make_unique<sql::Listener>(context.listen_connection, sql::reply_channel(chat_id));
    read = context.store.replies.read(chat_id, 0);
    out.start(200, stream_headers());
    live = out.go_live();
  } catch (...) {
    try {
      context.store.replies.leave(chat_id, reply_id);
    } catch (...) {
    }
    throw;
  }
  auto follower = std::make_shared<LiveFollower>(context, chat_id, reply_id, after,
                                                 std::move(listener), std::move(live));
  context.reply_loop->loop.post(
      [follower, read = std::move(read)]() mutable { follower->start(std::move(read)); });
  return true;
}

void interrupt_chat(Context& context, Request& request, ResponseWriter& out) {
  auto chat = load_chat(context, request, ChatAccess::kWrite);
  context.store.replies.interrupt(chat.id);
  out.start(204, {});
}

void stream_chat(Context& context, Request& request, ResponseWriter& out) {
  auto chat = load_chat(context, request, ChatAccess::kRead);
  size_t after = 0;
  if (auto value = request.query_param("after")) {
    // Digits only: no sign, no white space, no more than a reply can have.
    const char* end = value->data() + value->size();
    auto [stop, error] = std::from_chars(value->data(), end, after);
    if (value->empty() || error != std::errc() || stop != end || after > 1'000'000)
      throw ApiError(400, "Invalid \"after\": a number of parts (0 or more) is expected.");
  }
  if (!follow_reply(context, chat.id, after, out))
    respond(out, 204, "text/plain; charset=utf-8", "");
}

}  // namespace chatd::http
