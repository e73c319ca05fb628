// The chat history as the providers read it: the stored AI SDK v4 UI messages turned into a
// provider-neutral conversation (STREAM-PROTOCOL.md §2.1, §3) that each provider file writes in
// its own wire format.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/model.hpp"

namespace chatd::llm {

// Whether a user message (AI SDK UIMessage JSON) gives a model anything: text that is not
// blank, a file part or an attachment — what every provider's request is built from.
bool has_user_content(const nlohmann::json& message);

namespace detail {

// An attachment or file part: inline (base64) or remote (an http(s) URL).
struct FileRef {
  std::string name;        // may be empty
  std::string media_type;  // lower case, without parameters; may be empty
  std::string url;         // set when remote
  std::string base64;      // set when inline
  bool remote() const { return !url.empty(); }
  bool is_pdf() const { return media_type == "application/pdf"; }
  bool is_image() const { return media_type.rfind("image/", 0) == 0; }
  // "[attachment NAME (TYPE) omitted]": what a provider gets for a file it cannot take.
  std::string omitted_text() const;
};

// One piece of a user message: text, or a file.
struct UserItem {
  std::string text;
  std::optional<FileRef> file;
};

// Reasoning to send back (Anthropic): a signed thinking block, or a redacted one.
struct ThinkingBlock {
  bool redacted = false;
  std::string text;
  std::string signature;
  std::string data;
};

// A tool call that has its result (calls without one are never sent).
struct ToolRound {
  std::string id;
  std::string name;
  nlohmann::json args;               // an object
  nlohmann::json result;             // any JSON
  nlohmann::json provider_metadata;  // toolInvocation.providerMetadata, or null
};

// One step of an assistant message (one model call): its text concatenated, its signed
// reasoning, and its answered tool calls in order.
struct Step {
  std::vector<ThinkingBlock> thinking;
  std::string text;
  std::vector<ToolRound> calls;
};

// A user message or one assistant step.
struct Turn {
  bool assistant = false;
  std::vector<UserItem> user;  // !assistant
  Step step;                   // assistant
};

struct Conversation {
  std::string system;  // the request's system prompt plus the text of role "system" messages
  std::vector<Turn> turns;
};

// Reads request.system_prompt and request.messages. Malformed pieces are skipped, never
// thrown on: empty text, empty steps, unanswered tool calls and role "data" are left out.
Conversation read_conversation(const ModelRequest& request);

}  // namespace detail

// The first file of the newest user message that `takes` refuses (by media type, and whether
// it is by URL), as the text of the error that ends the reply; none when it takes them all.
std::optional<std::string> refused_attachment(
    const ModelRequest& request, const std::function<bool(std::string_view, bool)>& takes);

}  // namespace chatd::llm
