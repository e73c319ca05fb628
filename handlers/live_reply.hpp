// One reply on the worker's reply loop, from the moment its request thread sent the headers:
// the reply's state machine (llm::Reply), its record (ReplyRecorder) and its response
// (LiveResponse) together. It ends itself once the reply is stored and the response ended.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "handlers/context.hpp"
#include "handlers/http.hpp"
#include "llm/reply.hpp"
#include "llm/title.hpp"

namespace chatd::http {

struct LiveReplyStart {
  std::unique_ptr<LiveResponse> out;
  std::string chat_id;
  std::string user_id;  // whose usage the model calls are
  const llm::Model& model;
  std::string message_id;
  nlohmann::json history;  // the messages the model sees, the new user message last
  bool thinking = false;
  bool cancelled = false;  // an interrupt came while the request was on its way
  // The chat's title comes from this message (its first): the title's request and fallback.
  std::optional<nlohmann::json> title_from;
  std::string fallback_title;
};

// From the request thread: the reply runs on context.reply_loop from here on.
void start_live_reply(Context& context, LiveReplyStart start);

}  // namespace chatd::http
