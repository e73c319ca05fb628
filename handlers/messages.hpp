// POST /api/v2/chats/{chat}/messages: store the user's message and stream the reply
// (API.md §4).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

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

void post_chat_message(Context& context, Request& request, ResponseWriter& out);

}  // namespace chatd::http
