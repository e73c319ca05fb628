#include "llm/provider.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "llm/providers.hpp"

namespace chatd::llm {

namespace detail {
namespace {

using json = nlohmann::json;

std::string str(const json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && lower(text.substr(0, prefix.size())) == prefix;
}

bool blank(std::string_view text) {
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

// "Image/PNG; charset=x" -> "image/png".
std::string media_type_of(std::string_view type) {
  return lower(trim(type.substr(0, type.find(';'))));
}

std::string guess_media_type(std::string_view url) {
  std::string path = lower(url.substr(0, url.find_first_of("?#")));
  auto ends = [&](std::string_view suffix) {
    return path.size() >= suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends(".png")) return "image/png";
  if (ends(".jpg") || ends(".jpeg")) return "image/jpeg";
  if (ends(".gif")) return "image/gif";
  if (ends(".webp")) return "image/webp";
  if (ends(".pdf")) return "application/pdf";
  return {};
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    unsigned n = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    unsigned n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// A file from a URL: a data: URL becomes inline base64, an http(s) URL stays remote. Anything
// else (or an empty file) becomes the "omitted" text.
UserItem file_item(std::string name, std::string_view content_type, std::string_view url) {
  FileRef file;
  file.name = std::move(name);
  file.media_type = media_type_of(content_type);
  if (starts_with_nocase(url, "data:")) {
    size_t comma = url.find(',');
    if (comma != std::string_view::npos) {
      std::string_view meta = url.substr(5, comma - 5);
      std::string_view payload = url.substr(comma + 1);
      if (file.media_type.empty()) file.media_type = media_type_of(meta);
      bool is_base64 = lower(meta).find(";base64") != std::string::npos;
      if (is_base64) {
        for (char c : payload)
          if (!std::isspace(static_cast<unsigned char>(c))) file.base64 += c;
      } else {
        file.base64 = base64_encode(percent_decode(payload));
      }
    }
  } else if (starts_with_nocase(url, "http://") || starts_with_nocase(url, "https://")) {
    file.url = std::string(url);
    if (file.media_type.empty()) file.media_type = guess_media_type(url);
  }
  if (file.url.empty() && file.base64.empty()) return UserItem{file.omitted_text(), std::nullopt};
  return UserItem{{}, std::move(file)};
}

// The text of a message: its text parts when it has parts, else its content.
std::string message_text(const json& message) {
  auto parts = message.find("parts");
  if (parts != message.end() && parts->is_array() && !parts->empty()) {
    std::string text;
    for (const auto& part : *parts)
      if (str(part, "type") == "text") text += str(part, "text");
    return text;
  }
  return str(message, "content");
}

std::vector<UserItem> read_user(const json& message) {
  std::vector<UserItem> items;
  auto parts = message.find("parts");
  if (parts != message.end() && parts->is_array() && !parts->empty()) {
    for (const auto& part : *parts) {
      std::string type = str(part, "type");
      if (type == "text") {
        std::string text = str(part, "text");
        if (!blank(text)) items.push_back({std::move(text), std::nullopt});
      } else if (type == "file") {
        // v4: {mimeType, data: base64}. Also tolerated: {mediaType, url, filename}.
        std::string media = str(part, "mimeType");
        if (media.empty()) media = str(part, "mediaType");
        std::string name = str(part, "filename");
        std::string data = str(part, "data");
        std::string url = str(part, "url");
        if (!data.empty() && !starts_with_nocase(data, "data:")) {
          FileRef file;
          file.name = std::move(name);
          file.media_type = media_type_of(media);
          file.base64 = std::move(data);
          items.push_back({{}, std::move(file)});
        } else {
          items.push_back(file_item(std::move(name), media, url.empty() ? data : url));
        }
      }
    }
  } else {
    std::string content = str(message, "content");
    if (!blank(content)) items.push_back({std::move(content), std::nullopt});
  }
  auto attachments = message.find("experimental_attachments");
  if (attachments != message.end() && attachments->is_array()) {
    for (const auto& attachment : *attachments) {
      if (!attachment.is_object()) continue;
      items.push_back(file_item(str(attachment, "name"), str(attachment, "contentType"),
                                str(attachment, "url")));
    }
  }
  return items;
}

std::optional<ToolRound> read_invocation(const json& invocation) {
  if (!invocation.is_object() || str(invocation, "state") != "result") return std::nullopt;
  ToolRound round;
  round.id = str(invocation, "toolCallId");
  round.name = str(invocation, "toolName");
  if (round.id.empty() || round.name.empty()) return std::nullopt;
  auto args = invocation.find("args");
  round.args = args != invocation.end() && args->is_object() ? *args : json::object();
  round.result = invocation.value("result", json());
  round.provider_metadata = invocation.value("providerMetadata", json());
  return round;
}

void read_reasoning(const json& part, Step& step) {
  auto details = part.find("details");
  if (details == part.end() || !details->is_array()) return;
  for (const auto& detail : *details) {
    std::string type = str(detail, "type");
    if (type == "text") {
      std::string signature = str(detail, "signature");
      if (!signature.empty()) step.thinking.push_back({false, str(detail, "text"), signature, {}});
    } else if (type == "redacted") {
      std::string data = str(detail, "data");
      if (!data.empty()) step.thinking.push_back({true, {}, {}, data});
    }
  }
}

std::vector<Step> read_assistant(const json& message) {
  std::vector<Step> steps(1);
  auto parts = message.find("parts");
  if (parts != message.end() && parts->is_array() && !parts->empty()) {
    for (const auto& part : *parts) {
      std::string type = str(part, "type");
      if (type == "step-start") {
        steps.emplace_back();
      } else if (type == "text") {
        steps.back().text += str(part, "text");
      } else if (type == "reasoning") {
        read_reasoning(part, steps.back());
      } else if (type == "tool-invocation") {
        if (auto round = read_invocation(part.value("toolInvocation", json())))
          steps.back().calls.push_back(std::move(*round));
      }
    }
  } else {
    // No parts: the content, and the deprecated toolInvocations mirror.
    steps.back().text = str(message, "content");
    auto invocations = message.find("toolInvocations");
    if (invocations != message.end() && invocations->is_array())
      for (const auto& invocation : *invocations)
        if (auto round = read_invocation(invocation))
          steps.back().calls.push_back(std::move(*round));
  }
  std::vector<Step> kept;
  for (auto& step : steps) {
    if (blank(step.text)) step.text.clear();
    if (!step.text.empty() || !step.calls.empty()) kept.push_back(std::move(step));
  }
  return kept;
}

void append_system(std::string& system, const std::string& text) {
  if (blank(text)) return;
  if (!system.empty()) system += "\n\n";
  system += text;
}

}  // namespace

std::string FileRef::omitted_text() const {
  return "[attachment " + (name.empty() ? std::string("file") : name) + " (" +
         (media_type.empty() ? std::string("unknown type") : media_type) + ") omitted]";
}

Conversation read_conversation(const ModelRequest& request) {
  Conversation conversation;
  append_system(conversation.system, request.system_prompt);
  if (!request.messages.is_array()) return conversation;
  for (const auto& message : request.messages) {
    if (!message.is_object()) continue;
    std::string role = str(message, "role");
    if (role == "system") {
      append_system(conversation.system, message_text(message));
    } else if (role == "user") {
      Turn turn;
      turn.user = read_user(message);
      if (!turn.user.empty()) conversation.turns.push_back(std::move(turn));
    } else if (role == "assistant") {
      for (auto& step : read_assistant(message)) {
        Turn turn;
        turn.assistant = true;
        turn.step = std::move(step);
        conversation.turns.push_back(std::move(turn));
      }
    }
    // "data" and unknown roles: not for the model.
  }
  return conversation;
}

const nlohmann::json& member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string string_member(const nlohmann::json& object, const char* key) {
  return str(object, key);
}

std::optional<long long> int_member(const nlohmann::json& object, const char* key) {
  const nlohmann::json& value = member(object, key);
  if (!value.is_number_integer()) return std::nullopt;
  return value.get<long long>();
}

std::string base_url(const std::string& configured, std::string_view fallback) {
  std::string url = trim(configured);
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url.empty() ? std::string(fallback) : url;
}

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<nlohmann::json> parse_tool_args(std::string_view text) {
  if (blank(text)) return nlohmann::json::object();
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
  text = trim(text);
  constexpr size_t kMax = 300;
  if (text.size() > kMax) {
    size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
    text += "…";
  }
  return text;
}

std::string status_text(long status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 529:
      return "Overloaded";
    default:
      return "HTTP error";
  }
}

std::string error_body_message(const nlohmann::json& body) {
  if (body.is_array()) return body.empty() ? std::string() : error_body_message(body.front());
  if (!body.is_object()) return {};
  auto error = body.find("error");
  if (error != body.end()) {
    if (error->is_string()) return error->get<std::string>();
    std::string message = str(*error, "message");
    if (!message.empty()) return message;
  }
  std::string message = str(body, "message");
  if (!message.empty()) return message;
  return str(body, "detail");
}

std::optional<double> parse_seconds(std::string_view text) {
  std::string value = trim(text);
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
  if (text.empty()) text = status_text(status);
  error.message = std::string(provider) + " error " + std::to_string(status) + ": " + text;
  error.retryable = (status == 429 && !quota) || status == 500 || status == 502 || status == 503 ||
                    status == 504 || status == 529;
  error.retry_after_seconds = parse_seconds(retry_after);
  return error;
}

bool mentions_quota(std::string_view text) {
  std::string l = lower(text);
  return l.find("quota") != std::string::npos || l.find("billing") != std::string::npos ||
         l.find("credit balance") != std::string::npos;
}

FinishReason finish_with_calls(FinishReason reason, bool had_calls) {
  if (had_calls && (reason == FinishReason::kStop || reason == FinishReason::kUnknown))
    return FinishReason::kToolCalls;
  return reason;
}

}  // namespace detail

bool has_user_content(const nlohmann::json& message) { return !detail::read_user(message).empty(); }

}  // namespace chatd::llm
