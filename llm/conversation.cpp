#include "llm/conversation.hpp"

#include "base/text.hpp"
#include "llm/provider_common.hpp"

namespace chatd::llm {
namespace detail {
namespace {

using json = nlohmann::json;

// "Image/PNG; charset=x" -> "image/png".
std::string media_type_of(std::string_view type) {
  return base::ascii_lower(base::trim(type.substr(0, type.find(';'))));
}

std::string guess_media_type(std::string_view url) {
  std::string path = base::ascii_lower(url.substr(0, url.find_first_of("?#")));
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

// A file from a URL: a data: URL becomes inline base64, an http(s) URL stays remote. Anything
// else (or an empty file) becomes the "omitted" text.
UserItem file_item(std::string name, std::string_view content_type, std::string_view url) {
  FileRef file;
  file.name = std::move(name);
  file.media_type = media_type_of(content_type);
  if (base::starts_with_nocase(url, "data:")) {
    size_t comma = url.find(',');
    if (comma != std::string_view::npos) {
      std::string_view meta = url.substr(5, comma - 5);
      std::string_view payload = url.substr(comma + 1);
      if (file.media_type.empty()) file.media_type = media_type_of(meta);
      bool is_base64 = base::ascii_lower(meta).find(";base64") != std::string::npos;
      if (is_base64) {
        for (char c : payload)
          if (base::kAsciiWhitespace.find(c) == std::string_view::npos) file.base64 += c;
      } else {
        file.base64 = base::base64(base::percent_decode(payload));
      }
    }
  } else if (base::starts_with_nocase(url, "http://") ||
             base::starts_with_nocase(url, "https://")) {
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
      if (string_member(part, "type") == "text") text += string_member(part, "text");
    return text;
  }
  return string_member(message, "content");
}

std::vector<UserItem> read_user(const json& message) {
  std::vector<UserItem> items;
  auto parts = message.find("parts");
  if (parts != message.end() && parts->is_array() && !parts->empty()) {
    for (const auto& part : *parts) {
      std::string type = string_member(part, "type");
      if (type == "text") {
        std::string text = string_member(part, "text");
        if (!base::is_blank(text)) items.push_back({std::move(text), std::nullopt});
      } else if (type == "file") {
        // v4: {mimeType, data: base64}. Also tolerated: {mediaType, url, filename}.
        std::string media = string_member(part, "mimeType");
        if (media.empty()) media = string_member(part, "mediaType");
        std::string name = string_member(part, "filename");
        std::string data = string_member(part, "data");
        std::string url = string_member(part, "url");
        if (!data.empty() && !base::starts_with_nocase(data, "data:")) {
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
    std::string content = string_member(message, "content");
    if (!base::is_blank(content)) items.push_back({std::move(content), std::nullopt});
  }
  auto attachments = message.find("experimental_attachments");
  if (attachments != message.end() && attachments->is_array()) {
    for (const auto& attachment : *attachments) {
      if (!attachment.is_object()) continue;
      items.push_back(file_item(string_member(attachment, "name"),
                                string_member(attachment, "contentType"),
                                string_member(attachment, "url")));
    }
  }
  return items;
}

std::optional<ToolRound> read_invocation(const json& invocation) {
  if (!invocation.is_object() || string_member(invocation, "state") != "result")
    return std::nullopt;
  ToolRound round;
  round.id = string_member(invocation, "toolCallId");
  round.name = string_member(invocation, "toolName");
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
    std::string type = string_member(detail, "type");
    if (type == "text") {
      std::string signature = string_member(detail, "signature");
      if (!signature.empty())
        step.thinking.push_back({false, string_member(detail, "text"), signature, {}});
    } else if (type == "redacted") {
      std::string data = string_member(detail, "data");
      if (!data.empty()) step.thinking.push_back({true, {}, {}, data});
    }
  }
}

std::vector<Step> read_assistant(const json& message) {
  std::vector<Step> steps(1);
  auto parts = message.find("parts");
  if (parts != message.end() && parts->is_array() && !parts->empty()) {
    for (const auto& part : *parts) {
      std::string type = string_member(part, "type");
      if (type == "step-start") {
        steps.emplace_back();
      } else if (type == "text") {
        steps.back().text += string_member(part, "text");
      } else if (type == "reasoning") {
        read_reasoning(part, steps.back());
      } else if (type == "tool-invocation") {
        if (auto round = read_invocation(part.value("toolInvocation", json())))
          steps.back().calls.push_back(std::move(*round));
      }
    }
  } else {
    // No parts: the content, and the deprecated toolInvocations mirror.
    steps.back().text = string_member(message, "content");
    auto invocations = message.find("toolInvocations");
    if (invocations != message.end() && invocations->is_array())
      for (const auto& invocation : *invocations)
        if (auto round = read_invocation(invocation))
          steps.back().calls.push_back(std::move(*round));
  }
  std::vector<Step> kept;
  for (auto& step : steps) {
    if (base::is_blank(step.text)) step.text.clear();
    if (!step.text.empty() || !step.calls.empty()) kept.push_back(std::move(step));
  }
  return kept;
}

void append_system(std::string& system, const std::string& text) {
  if (base::is_blank(text)) return;
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
    std::string role = string_member(message, "role");
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

}  // namespace detail

std::optional<std::string> refused_attachment(
    const ModelRequest& request, const std::function<bool(std::string_view, bool)>& takes) {
  if (!request.messages.is_array()) return std::nullopt;
  for (auto message = request.messages.rbegin(); message != request.messages.rend(); ++message) {
    if (!message->is_object() || detail::string_member(*message, "role") != "user") continue;
    for (const auto& item : detail::read_user(*message)) {
      if (!item.file || takes(item.file->media_type, item.file->remote())) continue;
      const auto& file = *item.file;
      return "The model cannot take the attachment \"" +
             (file.name.empty() ? std::string("file") : file.name) + "\" (" +
             (file.media_type.empty() ? std::string("of unknown type") : file.media_type) +
             (file.remote() ? ", by URL" : "") +
             "); attach it in another form, or choose another model.";
    }
    return std::nullopt;
  }
  return std::nullopt;
}

bool has_user_content(const nlohmann::json& message) { return !detail::read_user(message).empty(); }

}  // namespace chatd::llm
