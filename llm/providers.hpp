// The three provider types and what they share: the history read into a provider-neutral
// conversation (STREAM-PROTOCOL.md §2.1, §3), and the small helpers for errors and tool calls.
// Implemented in provider.cpp; each type in openai.cpp, anthropic.cpp and google.cpp.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/provider.hpp"

namespace chatd::llm {

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

// Safe reads of a JSON object's member: null / "" / nullopt when `object` is not an object,
// has no such member, or the member has another type.
const nlohmann::json& member(const nlohmann::json& object, const char* key);
std::string string_member(const nlohmann::json& object, const char* key);
std::optional<long long> int_member(const nlohmann::json& object, const char* key);

// The configured base URL without trailing slashes, or `fallback` when none is configured.
std::string base_url(const std::string& configured, std::string_view fallback);

// JSON text for a request body; invalid UTF-8 is replaced rather than thrown on.
std::string dump(const nlohmann::json& value);

// A tool call's argument text as a JSON object: empty or blank is {}; anything that is not
// a JSON object is nullopt.
std::optional<nlohmann::json> parse_tool_args(std::string_view text);

// OpenAI's hot path: the delta.content of a chunk that is a plain text delta and nothing else
// the stream mapper acts on; nothing for any other chunk (the mapper parses that one whole).
// Exposed, with a mapper that can go without it, so tests compare the two paths.
std::optional<std::string> openai_text_delta(std::string_view chunk);
std::unique_ptr<StreamMapper> openai_stream_mapper(bool text_fast_path);

inline constexpr const char* kInvalidToolArgs = "the model sent invalid tool arguments";

// Makes provider text safe to show: the API key redacted, control characters flattened,
// at most 300 bytes (cut on a UTF-8 boundary).
std::string safe_text(std::string text, const std::string& api_key);

// "Too Many Requests" for 429, and so on; "HTTP error" for a status without a name.
std::string status_text(long status);

// The human message in an error body: error.message, error (a string), message or detail;
// a body that is an array is read through its first element. Empty when there is none.
std::string error_body_message(const nlohmann::json& body);

// A number of seconds: "12", "1.5", "34.4s". nullopt when it is not one (e.g. an HTTP date).
std::optional<double> parse_seconds(std::string_view text);

// The shared shape of parse_error: "<Provider> error <status>: <message>" (the message from
// the body, else the status text), retryable for 429/500/502/503/504/529 unless `quota`,
// retry_after from the header.
ProviderError make_provider_error(std::string_view provider, long status,
                                  const std::string& message, bool quota,
                                  const std::string& retry_after, const std::string& api_key);

// Does this text talk about quota or billing (a 429 that retrying will not fix)?
bool mentions_quota(std::string_view text);

// A finish reason the model gave as "stop"/"unknown" while it called tools is "tool-calls"
// (some OpenAI-compatible servers say "stop"; Gemini always says STOP).
FinishReason finish_with_calls(FinishReason reason, bool had_calls);

}  // namespace detail
}  // namespace chatd::llm
