// Request conversion: the first byte picks the provider (byte % 3: openai, anthropic, google)
// and thinking (byte & 4); the rest is JSON, either the messages (an array: the chat history as
// stored, AI SDK v4 UI messages) or {"messages": ..., "system": "..."}. stream_call must never
// throw, its body must be JSON, and it must keep the providers' rules:
//   - Anthropic and Gemini: roles alternate; Anthropic tool ids match ^[a-zA-Z0-9_-]+$ and
//     thinking blocks come first in an assistant message;
//   - OpenAI: every tool message answers a call of the assistant message before it.
// Tool specs (from configured MCP servers, not from users) are not fuzzed here.
#include <memory>
#include <set>
#include <string>

#include "fuzz_check.hpp"
#include "llm/provider_registry.hpp"

namespace {

using namespace chatd::llm;
using nlohmann::json;

const Provider& provider(int index) {
  static const std::unique_ptr<Provider> providers[] = {
      make_provider({"openai", "sk-fuzz", "", {}}),
      make_provider({"anthropic", "sk-fuzz", "", {}}),
      make_provider({"google", "sk-fuzz", "", {}}),
  };
  return *providers[index];
}

void check_alternating(const json& list, const char* key) {
  FUZZ_CHECK(list.is_array());
  for (std::size_t i = 1; i < list.size(); ++i) FUZZ_CHECK(list[i]["role"] != list[i - 1]["role"]);
  for (const auto& item : list) {
    FUZZ_CHECK(item[key].is_array());
    FUZZ_CHECK(!item[key].empty());
  }
}

void check_openai(const json& body) {
  std::set<std::string> open_calls;
  for (const auto& message : body["messages"]) {
    const std::string role = message["role"].get<std::string>();
    if (role == "assistant") {
      open_calls.clear();
      if (message.contains("tool_calls"))
        for (const auto& call : message["tool_calls"])
          open_calls.insert(call["id"].get<std::string>());
    } else if (role == "tool") {
      FUZZ_CHECK(open_calls.count(message["tool_call_id"].get<std::string>()) == 1);
    } else {
      open_calls.clear();
    }
  }
}

void check_anthropic(const json& body) {
  check_alternating(body["messages"], "content");
  for (const auto& message : body["messages"]) {
    bool other_seen = false;
    for (const auto& block : message["content"]) {
      const std::string type = block["type"].get<std::string>();
      if (type == "thinking" || type == "redacted_thinking") {
        FUZZ_CHECK(message["role"] == "assistant" && !other_seen);
      } else {
        other_seen = true;
      }
      std::string id;
      if (type == "tool_use") id = block["id"].get<std::string>();
      if (type == "tool_result") id = block["tool_use_id"].get<std::string>();
      if (type == "tool_use" || type == "tool_result") {
        FUZZ_CHECK(!id.empty());
        for (char c : id)
          FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '-');
      }
    }
  }
}

void check_google(const json& body) { check_alternating(body["contents"], "parts"); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int which = data[0] % 3;
  json input = json::parse(fuzz_bytes(data + 1, size - 1), nullptr, false);
  if (input.is_discarded()) return 0;

  ModelRequest request;
  request.model = "model";
  request.thinking = (data[0] & 4) != 0;
  if (input.is_object()) {
    request.messages = input.value("messages", json::array());
    if (auto system = input.find("system"); system != input.end() && system->is_string())
      request.system_prompt = system->get<std::string>();
  } else {
    request.messages = std::move(input);
  }

  HttpCall call = provider(which).stream_call(request);
  json body = json::parse(call.body, nullptr, false);
  FUZZ_CHECK(body.is_object());
  if (which == 0) check_openai(body);
  if (which == 1) check_anthropic(body);
  if (which == 2) check_google(body);
  return 0;
}
