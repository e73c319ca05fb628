// A chat's title (API.md §4): generated from the first user message by the chat's model on a
// thread of its own while the reply streams, cleaned to the title rules, with a fallback taken
// from the user's text when the model gives none in time.
#pragma once

#include <functional>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "llm/provider.hpp"
#include "llm/reply_observer.hpp"
#include "llm/transport.hpp"

namespace chatd::llm {

// A title being generated alongside the reply.
struct TitleJob {
  std::shared_future<std::string> title;
  std::string fallback;                           // used when the job fails or takes too long
  std::function<void(const std::string&)> store;  // called once, before the reply ends
};

// Starts generating a chat title from the first user message with the same model, on its own
// thread; the future yields the cleaned title or throws.
std::shared_future<std::string> start_title(const Provider& provider, const Transport& transport,
                                            std::string model, nlohmann::json user_message,
                                            ReplyObserver* observer = nullptr);

// The title rules of API.md §4: at most 40 characters, no quotes, colons or emoji, one line.
std::string clean_title(std::string_view raw);

// The title when none is generated: the user's text cleaned by the same rules, or "New Chat".
std::string fallback_title(std::string_view user_text);

}  // namespace chatd::llm
