// Replies being generated (API.md §7): one per chat, claimed, checkpointed as it streams,
// finished (or recovered when its worker died), interrupted, and followed by readers.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sql/statement.hpp"
#include "sql/store/usage.hpp"

namespace chatd::sql {

struct NewReply {
  std::string chat_id;
  std::string message_id;
  std::string user_id;
  std::string model;
  std::string provider;
  std::string worker;
  std::string idempotency_key;  // empty: none
  std::string request_hash;
  int max_user_replies = 0;          // replies the user may have running at once; 0: no limit
  double seconds_since_request = 0;  // how long ago its request arrived (for interrupts)
  std::optional<Budget> budget;      // the default budget (none: none); a user's own wins
};

struct ReplyClaim {
  enum Outcome { kClaimed, kBusy, kRepeat, kUserLimit, kBudgetReached } outcome;
  std::string message_id;             // kRepeat: the reply the key started
  bool same_request = true;           // kRepeat: the key came with the same request
  bool cancelled = false;             // kClaimed: an interrupt came after the request did
  std::optional<BudgetState> budget;  // kClaimed, kBudgetReached: the user's (none: none)
};

// A reply's model call in flight, as its checkpoints save it: what its provider reported so far,
// and its cost at that. A worker that dies before the call ends leaves it to recovery, which
// records it in the usage ledger (no call goes unrecorded).
struct OpenCall {
  int number = 0;  // among the reply's answered calls, from 1 (ModelCallRecord::call_number)
  std::optional<long long> input_tokens;
  std::optional<long long> output_tokens;
  std::optional<long long> cache_read_tokens;
  std::optional<long long> cache_write_tokens;
  std::optional<long long> reasoning_tokens;
  std::optional<long long> cost_micros;
};

struct ReplyProgress {
  size_t at = 0;      // characters of the reply's parts written before (PostgreSQL's substr)
  std::string parts;  // new data-stream lines since
  std::optional<OpenCall> call = std::nullopt;  // none: no call in flight
};

struct CheckpointAnswer {
  bool cancel_requested = false;
  int readers = 0;
};

// One reply's progress in a batch of checkpoints.
struct ReplyCheckpoint {
  std::string chat_id;
  std::string message_id;
  ReplyProgress progress;
};

// How a reply ended, stored on its message (API.md §8): the `d` part's finish reason, and
// whether it was stopped before its end (interrupt, on-disconnect = stop, a server failure).
struct ReplyEnd {
  std::string finish_reason;
  bool interrupted = false;
};

struct ReplyRead {
  std::string message_id;
  std::string parts;  // from the requested character on
  bool finished = false;
  std::string started_at;  // RFC 3339
};

class ReplyStore : Executor {
 public:
  using Executor::Executor;

  // One reply per chat, claimed in one round trip (chat_replies_claim.sql). With an idempotency
  // key, the key is recorded in the same transaction, so that of two identical POSTs exactly
  // one starts a reply.
  ReplyClaim begin(const NewReply& reply);
  // Nothing back when the reply no longer runs here (finished, or recovered as dead).
  std::optional<CheckpointAnswer> checkpoint(const std::string& chat_id,
                                             const std::string& message_id,
                                             const ReplyProgress& progress);
  // Many replies in one statement: the answers by chat id of those that still run here. When
  // the database refuses the batch (not for a lost connection: DatabaseUnavailable), each
  // reply is tried alone, so that one refused record fails only its own reply: it is then
  // in `refused`, with the error.
  struct BatchAnswer {
    std::map<std::string, CheckpointAnswer> running;
    std::map<std::string, std::string> refused;  // chat id -> sql::error_text
  };
  BatchAnswer checkpoint(const std::vector<ReplyCheckpoint>& batch);
  // Writes the last parts, stores the assistant message (JSON; when there is one and it has
  // parts), with how it ended, and marks the reply finished. False, and nothing written, when
  // the reply was not running any more (another worker's recovery finished it first).
  bool finish(const std::string& chat_id, const std::string& message_id,
              const ReplyProgress& progress, const std::optional<std::string>& message,
              const ReplyEnd& end, std::optional<long long> prompt_tokens,
              std::optional<long long> completion_tokens);
  // Keeps these replies (of chats by id) alive for recovery: see chat_replies_heartbeat.sql.
  void heartbeat(const std::vector<std::string>& chat_ids);
  // The message of a reply whose worker could not finish it, made of the parts it wrote (all
  // of them, in `parts`); none when there is nothing to store.
  using Rebuild = std::function<std::optional<std::string>(const ReplyRead&)>;
  // Finishes the replies of dead workers as failed (and interrupted), each with what `rebuild`
  // makes of its parts (nothing stored when the database refuses that); returns how many.
  size_t recover(const Rebuild& rebuild);
  // Drops finished replies.
  void prune();
  bool interrupt(const std::string& chat_id);

  std::optional<ReplyRead> read(const std::string& chat_id, size_t offset);
  // A reader follows the reply: false when `max_readers` do already, or it no longer runs.
  bool join(const std::string& chat_id, const std::string& message_id, int max_readers);
  void leave(const std::string& chat_id, const std::string& message_id);
};

}  // namespace chatd::sql
