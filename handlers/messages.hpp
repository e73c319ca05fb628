// POST /api/v2/chats/{chat}/messages: store the user's message and stream the reply
// (API.md §4); PATCH …/messages/{message}: edit a user message and run again (§8).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "handlers/context.hpp"
#include "handlers/http.hpp"

namespace chatd::http {

struct ChatMessageRequest {
  std::string model;
  nlohmann::json message;  // normalized UI message with id and createdAt
  bool thinking = false;
};

// Decodes and checks a CreateChatMessageRequest; throws 400 "Failed to decode chat message"
// with a precise detail.
ChatMessageRequest decode_chat_message(const std::string& body);

// The stored messages the model sees besides the new one (max-history-messages = `keep`),
// oldest first, from the chat's newest stored messages (newest first, as JSON texts): at most
// `keep` of them, fewer when max-history-bytes cut them; `whole` says they are the whole chat.
// The new user message takes one place; when the chat holds more, the window starts at the
// first user message of the rest, so it never starts on an assistant message (some providers
// refuse that), and may be empty.
nlohmann::json history_window(const std::vector<std::string>& newest_first, size_t keep,
                              bool whole);

void post_chat_message(Context& context, Request& request, ResponseWriter& out);
// PATCH …/messages/{message} (API.md §8): the user message and every later one are replaced by
// the body's message, under the same id, and the reply streams as for POST.
void edit_chat_message(Context& context, Request& request, ResponseWriter& out);

}  // namespace chatd::http
