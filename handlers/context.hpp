// What a handler may use besides its request: passed in, never global.
#pragma once

#include <string>

#include "base/event_loop.hpp"
#include "llm/catalog.hpp"
#include "llm/http_client.hpp"
#include "llm/price.hpp"
#include "llm/reply.hpp"
#include "llm/transport.hpp"
#include "sql/listener.hpp"
#include "sql/store.hpp"

namespace chatd::http {

struct ReplySettings {
  std::string system_prompt;
  std::string default_model;     // announced to pages when the catalog offers it; empty: none
  int max_replies_per_user = 0;  // 0: no limit
  int max_readers_per_reply = 256;
  int max_history_messages = 200;
  uint64_t max_history_bytes = 16 << 20;
  uint64_t max_message_bytes = 4 << 20;                 // a user message's JSON; 413 above
  uint64_t max_chat_bytes = uint64_t{64} << 20;         // a chat's messages' JSON; 400 when reached
  uint64_t max_file_bytes = 10 << 20;                   // an upload (API.md §10); 413 above
  uint64_t max_file_storage_bytes = uint64_t{1} << 30;  // one user's files; 413 when reached
  llm::ReplyOptions options;
  llm::PriceTable prices;             // model-price: what each model's calls cost
  std::optional<sql::Budget> budget;  // every user's, but for their own; none: none
};

class ReplyRegistry;
class ReplyStoreThread;
class Observer;

// The worker's reply loop (DESIGN.md "reply loop"): where replies run once their headers are out.
struct ReplyLoop {
  base::EventLoop& loop;
  llm::Upstream& upstream;  // provider and title transfers
  ReplyStoreThread& store;  // the loop's database thread
};

struct Context {
  sql::Store& store;
  const llm::ModelCatalog& models;
  const llm::Transport& transport;
  const ReplySettings& reply;
  sql::RateLimit rate_limit;  // per user, on every authenticated request
  llm::ToolRunner* tools;     // null: no tool source is configured
  ReplyRegistry& replies;
  sql::ListenConnection& listen_connection;  // the worker's one LISTEN connection
  std::string worker;                        // "host:pid", recorded with the replies it runs
  Observer* observer = nullptr;     // the process model's scoreboard and metrics; may be null
  ReplyLoop* reply_loop = nullptr;  // null: no reply can run (the unit tests' context)
};

}  // namespace chatd::http
