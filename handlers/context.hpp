// What a handler may use besides its request: passed in, never global.
#pragma once

#include <string>

#include "llm/catalog.hpp"
#include "llm/reply.hpp"
#include "llm/transport.hpp"
#include "sql/store.hpp"

namespace chatd::http {

struct ReplySettings {
  std::string system_prompt;
  llm::ReplyOptions options;
};

class ReplyRegistry;

struct Context {
  sql::Store& store;
  const llm::ModelCatalog& models;
  const llm::Transport& transport;
  const ReplySettings& reply;
  llm::ToolRunner* tools;  // null: no tool source is configured
  ReplyRegistry& replies;
  const std::string& database_url;  // for connections of their own (LISTEN)
  std::string worker;                // "host:pid", recorded with the replies it runs
};

}  // namespace chatd::http
