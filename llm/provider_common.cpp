#include "llm/provider_common.hpp"

#include <charconv>
#include <cmath>

#include "base/http_status.hpp"
#include "base/text.hpp"
#include "base/utf8.hpp"

namespace chatd::llm::detail {

const nlohmann::json& member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string string_member(const nlohmann::json& object, const char* key) {
  const nlohmann::json& value = member(object, key);
  return value.is_string() ? value.get<std::string>() : std::string();
}

std::optional<long long> int_member(const nlohmann::json& object, const char* key) {
  const nlohmann::json& value = member(object, key);
  if (!value.is_number_integer()) return std::nullopt;
  return value.get<long long>();
}

std::string base_url(const std::string& configured, std::string_view fallback) {
  std::string url(base::trim(configured));
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url.empty() ? std::string(fallback) : url;
}

std::optional<nlohmann::json> parse_tool_args(std::string_view text) {
  if (base::is_blank(text)) return nlohmann::json::object();
  auto value = nlohmann::json::parse(text, nullptr, false);
  if (value.is_discarded() || !value.is_object()) return std::nullopt;
  return value;
}

std::string safe_text(std::string text, const std::string& api_key) {
  if (api_key.size() >= 4) {
    for (size_t at = text.find(api_key); at != std::string::npos; at = text.find(api_key, at + 10))
      text.replace(at, api_key.size(), "[redacted]");
  }
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  text = std::string(base::trim(text));
  constexpr size_t kMax = 300;
  if (text.size() > kMax) text = std::string(base::utf8_prefix(text, kMax)) + "…";
  return text;
}

std::string error_body_message(const nlohmann::json& body) {
  if (body.is_array()) return body.empty() ? std::string() : error_body_message(body.front());
  if (!body.is_object()) return {};
  auto error = body.find("error");
  if (error != body.end()) {
    if (error->is_string()) return error->get<std::string>();
    std::string message = string_member(*error, "message");
    if (!message.empty()) return message;
  }
  std::string message = string_member(body, "message");
  if (!message.empty()) return message;
  return string_member(body, "detail");
}

std::optional<double> parse_seconds(std::string_view text) {
  std::string value(base::trim(text));
  if (!value.empty() && value.back() == 's') value.pop_back();
  if (value.empty()) return std::nullopt;
  double seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(seconds) ||
      seconds < 0)
    return std::nullopt;
  return seconds;
}

ProviderError make_provider_error(std::string_view provider, long status,
                                  const std::string& message, bool quota,
                                  const std::string& retry_after, const std::string& api_key) {
  ProviderError error;
  std::string text = safe_text(message, api_key);
  if (text.empty()) text = base::http_status_text(status);
  if (text.empty()) text = "HTTP error";
  error.message = std::string(provider) + " error " + std::to_string(status) + ": " + text;
  error.retryable = (status == 429 && !quota) || status == 500 || status == 502 || status == 503 ||
                    status == 504 || status == 529;
  error.retry_after_seconds = parse_seconds(retry_after);
  return error;
}

HttpCall model_list_call(std::string url, std::vector<std::string> headers) {
  HttpCall call;
  call.method = "GET";
  call.url = std::move(url);
  call.headers = std::move(headers);
  call.headers.push_back("Accept: application/json");
  return call;
}

std::vector<std::string> data_ids(std::string_view provider, const std::string& body,
                                  bool (*keep)(const std::string& id)) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  const nlohmann::json& data = member(parsed, "data");
  if (!data.is_array())
    throw std::runtime_error(std::string(provider) + ": the model list is not {\"data\":[...]}");
  std::vector<std::string> ids;
  for (const auto& model : data)
    if (std::string id = string_member(model, "id"); !id.empty() && (!keep || keep(id)))
      ids.push_back(std::move(id));
  return ids;
}

bool mentions_quota(std::string_view text) {
  std::string l = base::ascii_lower(text);
  return l.find("quota") != std::string::npos || l.find("billing") != std::string::npos ||
         l.find("credit balance") != std::string::npos;
}

FinishReason finish_with_calls(FinishReason reason, bool had_calls) {
  if (had_calls && (reason == FinishReason::kStop || reason == FinishReason::kUnknown))
    return FinishReason::kToolCalls;
  return reason;
}

}  // namespace chatd::llm::detail
