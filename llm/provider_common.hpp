// What the provider files (openai.cpp, anthropic.cpp, google.cpp) share besides the
// conversation: safe reads of JSON members, the base URL, tool arguments, the finish reason of
// a step with tool calls, the shape of their error messages and of their model lists.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llm/finish_reason.hpp"
#include "llm/provider.hpp"

namespace chatd::llm::detail {

// Safe reads of a JSON object's member: null / "" / nullopt when `object` is not an object,
// has no such member, or the member has another type.
const nlohmann::json& member(const nlohmann::json& object, const char* key);
std::string string_member(const nlohmann::json& object, const char* key);
std::optional<long long> int_member(const nlohmann::json& object, const char* key);

// The configured base URL without trailing slashes, or `fallback` when none is configured.
std::string base_url(const std::string& configured, std::string_view fallback);

// A tool call's argument text as a JSON object: empty or blank is {}; anything that is not
// a JSON object is nullopt.
std::optional<nlohmann::json> parse_tool_args(std::string_view text);

inline constexpr const char* kInvalidToolArgs = "the model sent invalid tool arguments";

// Makes provider text safe to show: the API key redacted, control characters flattened,
// at most 300 bytes (cut on a UTF-8 boundary).
std::string safe_text(std::string text, const std::string& api_key);

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

// The GET of a provider's model list, which answers JSON.
HttpCall model_list_call(std::string url, std::vector<std::string> headers);

// The ids of a {"data":[{"id":"…"},…]} model list (OpenAI's and Anthropic's shape), those that
// `keep` accepts (all without it); throws naming the provider when the body is not of that
// shape.
std::vector<std::string> data_ids(std::string_view provider, const std::string& body,
                                  bool (*keep)(const std::string& id) = nullptr);

// Does this text talk about quota or billing (a 429 that retrying will not fix)?
bool mentions_quota(std::string_view text);

// A finish reason the model gave as "stop"/"unknown" while it called tools is "tool-calls"
// (some OpenAI-compatible servers say "stop"; Gemini always says STOP).
FinishReason finish_with_calls(FinishReason reason, bool had_calls);

}  // namespace chatd::llm::detail
