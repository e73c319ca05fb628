// A chat's stored messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sql/statement.hpp"

namespace chatd::sql {

struct StoredMessage {
  std::string chat_id;
  std::string model;
  std::string provider;
  std::string content;                                      // the UI message as JSON text
  std::optional<std::string> finish_reason = std::nullopt;  // none for a user message
  std::optional<long long> prompt_tokens = std::nullopt;    // none: unknown
  std::optional<long long> completion_tokens = std::nullopt;
  std::vector<std::string> file_ids = {};  // the chat owner's files it references (API.md §10)
};

// What was in the chat before a message: its newest messages (JSON texts, newest first),
// whether they are all of it, and whether any message was the user's.
struct RecentMessages {
  std::vector<std::string> newest_first;
  bool whole = true;
  bool has_user_message = false;
};

struct MessageBatch {
  std::vector<std::string> contents;  // the UI messages as JSON texts
  long long last_id = 0;              // where the next batch starts (after this one)
};

// A page of GET …/messages (API.md §8): messages are named by their AI SDK id.
struct MessagePageQuery {
  int limit = 50;
  std::optional<std::string> before_id;  // the newest `limit` before it (none: of all)
  std::optional<std::string> after_id;   // the oldest `limit` after it
};

struct MessagePage {
  bool cursors_found = true;          // before_id and after_id are messages of the chat
  std::vector<std::string> contents;  // the UI messages as JSON texts, oldest first
  std::string first_id, last_id;      // of the page's first and last message
  bool older = false, newer = false;  // messages before the first, after the last
};

class MessageStore : Executor {
 public:
  using Executor::Executor;

  // Up to `size` of the chat's messages, oldest first, from just after the message `after_id`
  // (0: from the first), as their stored JSON texts.
  MessageBatch batch(const std::string& chat_id, long long after_id, int size);
  MessagePage page(const std::string& chat_id, const MessagePageQuery& query);
  // Stores the message and moves chats.updated_at to its time; returns the chat's newest
  // messages from before it, at most `recent` and at most `max_bytes` of JSON, all in one
  // statement. With `edited`, the message replaces the user message of that id and every later
  // one (edit_target), and "before it" is before that message.
  RecentMessages append(const StoredMessage& message, int recent, uint64_t max_bytes,
                        const std::optional<std::string>& edited = std::nullopt);
  // The bytes of JSON the user message `message_id` of the chat and every later message take:
  // what an edit of it deletes; none when the chat has no such user message.
  std::optional<long long> edit_target(const std::string& chat_id, const std::string& message_id);
};

}  // namespace chatd::sql
