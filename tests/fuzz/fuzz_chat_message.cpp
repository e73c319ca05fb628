// Request decoding: the input is the body of POST /api/v2/chats/{chat}/messages.
// decode_chat_message either throws http::ApiError (400) or returns a message with the shape
// the rest of the service relies on; anything else escaping is a bug. A decoded message then
// goes, as the chat history, to each provider's stream_call, as post_chat_message does.
#include <memory>
#include <string>

#include "fuzz_check.hpp"
#include "handlers/error.hpp"
#include "handlers/messages.hpp"
#include "llm/conversation.hpp"
#include "llm/provider_registry.hpp"
#include "llm/reply.hpp"

namespace {

using namespace chatd;
using nlohmann::json;

const llm::Provider& provider(int index) {
  static const std::unique_ptr<llm::Provider> providers[] = {
      llm::make_provider({"openai", "sk-fuzz", "", {}}),
      llm::make_provider({"anthropic", "sk-fuzz", "", {}}),
      llm::make_provider({"google", "sk-fuzz", "", {}}),
  };
  return *providers[index];
}

bool contains_nul(const json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>().find('\0') != std::string::npos;
  if (value.is_object())
    for (const auto& [key, item] : value.items())
      if (key.find('\0') != std::string::npos || contains_nul(item)) return true;
  if (value.is_array())
    for (const auto& item : value)
      if (contains_nul(item)) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::ChatMessageRequest decoded;
  try {
    decoded = http::decode_chat_message(std::string(fuzz_bytes(data, size)));
  } catch (const http::ApiError& error) {
    FUZZ_CHECK(error.status == 400);
    // As write_error sends it: the detail may quote invalid UTF-8 from the body.
    http::error_body(error).dump(-1, ' ', false, json::error_handler_t::replace);
    return 0;
  }
  FUZZ_CHECK(!decoded.model.empty());
  const json& message = decoded.message;
  FUZZ_CHECK(message.is_object());
  FUZZ_CHECK(message["id"].is_string() && !message["id"].get<std::string>().empty());
  FUZZ_CHECK(message["role"] == "user");
  FUZZ_CHECK(message["createdAt"].is_string());
  FUZZ_CHECK(message["content"].is_string());
  FUZZ_CHECK(message["parts"].is_array());
  for (const auto& part : message["parts"])
    FUZZ_CHECK(part.is_object() && part["type"].is_string());
  // Something for the model: text that is not blank, a file or an attachment.
  FUZZ_CHECK(llm::has_user_content(message));
  FUZZ_CHECK(!contains_nul(message));
  // Stored as jsonb: the text must parse back to the same message.
  const std::string stored = message.dump(-1, ' ', false, json::error_handler_t::replace);
  FUZZ_CHECK(json::parse(stored, nullptr, false) == message);

  llm::clean_title(message["content"].get<std::string>());
  llm::ModelRequest request;
  request.model = decoded.model;
  request.thinking = decoded.thinking;
  request.messages = json::array({message});
  for (int which = 0; which < 3; ++which) {
    llm::HttpCall call = provider(which).stream_call(request);
    FUZZ_CHECK(!json::parse(call.body, nullptr, false).is_discarded());
  }
  return 0;
}
