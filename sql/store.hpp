// The typed data access the handlers and commands call. Each method is one prepared statement
// (named after its sql/queries/*.sql file) on a connection borrowed from the pool.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sql/pool.hpp"

namespace chatd::sql {

struct ApiKeyRecord {
  std::string hashed_secret;  // hex of sha256(secret)
  std::string expires_at;     // RFC 3339
  bool expired = false;
  std::string user_id;
  std::string user_status;
  bool user_is_admin = false;
  // Set when the per-user rate limit refused this request: seconds until one is admitted.
  std::optional<double> retry_after;
};

// The per-user request rate: one request every `seconds_per_request` on average, `burst` at
// once after a quiet spell. A zero interval means no limit.
struct RateLimit {
  double seconds_per_request = 0;
  double burst = 1;
};

struct ChatRecord {
  std::string id;
  std::string owner_id;
  std::string created_at;
  std::string updated_at;
  std::string title;
  bool running = false;  // a reply is being generated
};

struct UserRecord {
  std::string id;
  std::string username;
  std::string email;
  std::string status;
  bool is_admin = false;
  std::string created_at;
};

struct ApiKeyInfo {
  std::string id;
  std::string name;
  std::string created_at;
  std::string expires_at;
  std::string last_used;
};

// Thrown when a unique constraint refuses a row (e.g. a username that exists).
class AlreadyExists : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Store {
 public:
  explicit Store(Pool& pool) : pool_(pool) {}

  bool ping();

  // The key and its user. When `hashed_secret` (hex) matches and key and user are good, the
  // same round trip also moves last_used and counts the request against `limit`.
  std::optional<ApiKeyRecord> find_api_key(const std::string& id, const std::string& hashed_secret,
                                           const RateLimit& limit);

  std::vector<ChatRecord> list_chats(const std::string& owner_id);  // owner_id not filled
  ChatRecord create_chat(const std::string& owner_id);
  std::optional<ChatRecord> get_chat(const std::string& id);
  // The chat's messages as a JSON array text, oldest first, straight from the stored JSON.
  std::string chat_messages_json(const std::string& chat_id);

  // One reply per chat (API.md §7). With an idempotency key, the key is recorded in the same
  // transaction, so that of two identical POSTs exactly one starts a reply.
  struct ReplyClaim {
    enum Outcome { kClaimed, kBusy, kRepeat, kUserLimit } outcome;
    std::string message_id;    // kRepeat: the reply the key started
    bool same_request = true;  // kRepeat: the key came with the same request
  };
  struct NewReply {
    std::string chat_id;
    std::string message_id;
    std::string user_id;
    std::string model;
    std::string provider;
    std::string worker;
    std::string idempotency_key;  // empty: none
    std::string request_hash;
    int max_user_replies = 0;  // replies the user may have running at once; 0: no limit
  };
  ReplyClaim begin_reply(const NewReply& reply);
  // Frees the idempotency key of a reply that stored nothing (its message could not be stored).
  void forget_idempotency_key(const NewReply& reply);

  struct ReplyProgress {
    std::string parts;  // new data-stream lines since the last checkpoint
    int part_count = 0;
    std::string message;  // the assistant message so far (JSON)
  };
  struct CheckpointAnswer {
    bool cancel_requested = false;
    int readers = 0;
  };
  // Nothing back when the reply no longer runs here (finished, or recovered as dead).
  std::optional<CheckpointAnswer> checkpoint_reply(const std::string& chat_id,
                                                   const std::string& message_id,
                                                   const ReplyProgress& progress);
  // Stores the assistant message (when it has parts) and marks the reply finished.
  void finish_reply(const std::string& chat_id, const std::string& message_id,
                    const ReplyProgress& progress, const std::string& finish_reason,
                    const std::string& prompt_tokens, const std::string& completion_tokens);
  // Finishes the replies of dead workers; returns how many.
  size_t recover_replies();
  // Drops finished replies and expired idempotency keys.
  void prune_replies();
  bool interrupt_reply(const std::string& chat_id);

  struct ReplyRead {
    std::string message_id;
    std::string parts;  // from the requested byte offset on
    bool finished = false;
  };
  std::optional<ReplyRead> read_reply(const std::string& chat_id, size_t offset);
  // A reader follows the reply: false when `max_readers` do already, or it no longer runs.
  bool join_reply(const std::string& chat_id, const std::string& message_id, int max_readers);
  void leave_reply(const std::string& chat_id, const std::string& message_id);

  struct StoredMessage {
    std::string chat_id;
    std::string model;
    std::string provider;
    std::string content;        // the UI message as JSON text
    std::string finish_reason;  // empty for a user message
    std::string prompt_tokens;  // empty: unknown
    std::string completion_tokens;
  };
  // What was in the chat before a message: its newest messages (JSON texts, newest first),
  // whether they are all of it, and whether any message was the user's.
  struct RecentMessages {
    std::vector<std::string> newest_first;
    bool whole = true;
    bool has_user_message = false;
  };
  // Stores the message and moves chats.updated_at to its time; returns the chat's newest
  // messages from before it, at most `recent` and at most `max_bytes` of JSON, all in one
  // statement.
  RecentMessages append_message(const StoredMessage& message, int recent, uint64_t max_bytes);
  void set_chat_title(const std::string& chat_id, const std::string& title);

  std::string create_user(const std::string& username, const std::string& email, bool admin);
  std::vector<UserRecord> list_users();
  bool set_user_status(const std::string& username, const std::string& status);

  // Returns the expiry, or nothing when the user does not exist.
  std::optional<std::string> create_api_key(const std::string& id, const std::string& hashed,
                                            const std::string& username, const std::string& name,
                                            long long lifetime_seconds);
  std::vector<ApiKeyInfo> list_api_keys(const std::string& username);
  bool delete_api_key(const std::string& id);

 private:
  Pool& pool_;
};

}  // namespace chatd::sql
