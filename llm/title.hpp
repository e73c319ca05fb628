// A chat's title (API.md §4): generated from the first user message by the chat's model on the
// reply's loop while the reply streams, cleaned to the title rules, with a fallback taken from
// the user's text when the model gives none in time.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "llm/http_client.hpp"
#include "llm/provider.hpp"
#include "llm/reply_observer.hpp"

namespace chatd::llm {

// A title being generated alongside the reply. Everything runs on the reply's loop.
struct TitleJob {
  // Starts generating; `done` is called once, later, with the cleaned title ("" when none
  // came). Answers what abandons it (`done` is then never called).
  using Start = std::function<std::function<void()>(std::function<void(std::string)> done)>;
  Start start;
  std::string fallback;                           // used when the job fails or takes too long
  std::function<void(const std::string&)> store;  // called once, before the reply ends
};

// The title of a chat's first reply: one request to the same model through `upstream`.
// `on_call`, when the provider answered it (HTTP 200), gets the usage it reported: once the
// call ends, or is abandoned (with what came by then).
TitleJob::Start title_request(const Provider& provider, Upstream& upstream, std::string model,
                              nlohmann::json user_message, ReplyObserver* observer = nullptr,
                              std::function<void(const Usage&)> on_call = nullptr);

// The title rules of API.md §4: at most 40 characters, no quotes, colons or emoji, one line.
std::string clean_title(std::string_view raw);

// The title when none is generated: the user's text cleaned by the same rules, or "New Chat".
std::string fallback_title(std::string_view user_text);

}  // namespace chatd::llm
