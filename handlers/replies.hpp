// The lifecycle of a reply being generated (API.md §7): its row in PostgreSQL is checkpointed
// as it streams, interrupts reach it from any worker, and readers on any worker follow it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "handlers/context.hpp"
#include "handlers/http.hpp"
#include "handlers/reply_store_thread.hpp"
#include "llm/data_stream.hpp"
#include "llm/finish_reason.hpp"

namespace chatd::http {

// The replies running in this worker, by chat: where an interrupt heard on the database's
// cancel channel (sql::kCancelChannel) lands.
class ReplyRegistry {
 public:
  std::shared_ptr<std::atomic<bool>> add(const std::string& chat_id);
  void remove(const std::string& chat_id);
  void cancel(const std::string& chat_id);
  std::vector<std::string> chat_ids() const;  // of the replies running now
  // Waits until no reply runs here; false when `deadline` passed first.
  bool wait_empty(std::chrono::steady_clock::time_point deadline) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable emptied_;
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> running_;
};

// Records a running reply's parts and writes them to its row, from the reply loop through its
// database thread: about once a second (also the heartbeat), more often while someone follows
// it. Tells the reply to stop on an interrupt. Lives on the loop, like its reply.
class ReplyRecorder : public llm::PartSink {
 public:
  ReplyRecorder(Context& context, std::string chat_id, std::string message_id,
                llm::PartSink& client);
  ~ReplyRecorder() override;
  ReplyRecorder(const ReplyRecorder&) = delete;
  ReplyRecorder& operator=(const ReplyRecorder&) = delete;

  // Every part goes to the client (while it is there) and into the record.
  bool write_line(std::string_view line) override;
  bool behind() const override { return !client_gone_ && client_.behind(); }
  // For ReplyInputs::on_tick: queues a checkpoint of the new parts when one is due (and none
  // is on its way). kStop once the reply is interrupted or was recovered as dead; kFail once
  // the database refused a checkpoint (not for a lost connection: the parts wait for the next
  // one).
  llm::TickVerdict tick();
  // Stores the final message and marks the reply finished (see chat_replies_finish.sql), after
  // the checkpoint on its way if any; then `done`, on the loop. When the database refuses the
  // record (a checkpoint before, or this), the reply is finished as failed (and interrupted)
  // with the message of the parts it accepted (checkpointed_message): what can be stored is.
  // Once. `interrupted`: the reply stopped before its end (llm::ReplyResult::interrupted).
  void finish(std::string message, llm::FinishReason finish_reason, bool interrupted,
              const llm::Usage& usage, std::function<void()> done);
  // What went wrong inside, for the request's log line (sql::error_text; never data).
  const std::string& failure() const { return failure_; }
  // Where each checkpoint learns the reply's model call in flight (sql::OpenCall).
  void watch_calls(std::function<std::optional<sql::OpenCall>()> call_in_flight) {
    call_in_flight_ = std::move(call_in_flight);
  }

 private:
  sql::ReplyProgress take();
  void checkpointed(sql::ReplyProgress progress, ReplyStoreThread::Checkpointed answer);
  void store_checkpointed(const llm::Usage& usage);

  Context& context_;
  std::string chat_id_;
  std::string message_id_;
  llm::PartSink& client_;
  bool client_gone_ = false;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  std::string pending_;  // lines not yet checkpointed
  size_t written_ = 0;   // characters of the lines checkpointed
  int readers_ = 0;
  std::chrono::steady_clock::time_point last_checkpoint_;
  bool in_flight_ = false;  // a checkpoint is on its way
  bool refused_ = false;
  bool gone_ = false;                     // recovered as dead by another worker
  std::function<void()> finish_pending_;  // a finish waiting for the checkpoint on its way
  std::string failure_;
  std::function<std::optional<sql::OpenCall>()> call_in_flight_;
};

// The message of a reply that its worker could not finish, rebuilt from the parts the
// database accepted (all of them, in `reply.parts`): for recovery (sql::ReplyStore::recover)
// and a refused record. None when it has no part.
std::optional<std::string> checkpointed_message(const sql::ReplyRead& reply);

// Sends the running reply of a chat to `out` as a data stream: every part from the first `f`
// (skipping the first `after` parts), then live until it ends. Returns false, having written
// nothing, when no reply runs (or, with `message_id`, not that one: an idempotent repeat);
// throws a 429 ApiError when max_readers_per_reply follow it already. The reader is then
// followed on the reply loop.
bool follow_reply(Context& context, const std::string& chat_id, size_t after, ResponseWriter& out,
                  const std::string& message_id = "");

// The data-stream response headers (API.md §4 step 4).
const Headers& stream_headers();

// POST /api/v2/chats/{chat}/interrupt and GET /api/v2/chats/{chat}/stream.
void interrupt_chat(Context& context, Request& request, ResponseWriter& out);
void stream_chat(Context& context, Request& request, ResponseWriter& out);

}  // namespace chatd::http
