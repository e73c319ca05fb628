#include "llm/data_stream.hpp"

#include "base/json_text.hpp"

namespace chatd::llm {

using nlohmann::json;

std::string encode_part(char code, const json& value) {
  std::string line(1, code);
  line += ':';
  line += base::json_text(value);
  line += '\n';
  return line;
}

MessageBuilder::MessageBuilder(std::string message_id, std::string created_at)
    : id_(std::move(message_id)), created_at_(std::move(created_at)) {}

namespace {

// The client replaces a tool-invocation part in place, or appends one.
void put_invocation(json& parts, const json& invocation) {
  for (auto& part : parts) {
    if (part["type"] == "tool-invocation" &&
        part["toolInvocation"]["toolCallId"] == invocation["toolCallId"]) {
      part["toolInvocation"] = invocation;
      return;
    }
  }
  parts.push_back({{"type", "tool-invocation"}, {"toolInvocation", invocation}});
}

// `value` is an object whose `key` is a string. Parts are only ever built by this service, but
// a malformed one is ignored rather than thrown on (tests/fuzz/fuzz_message_builder.cpp).
bool has_string(const json& value, const char* key) {
  auto it = value.find(key);  // end() when value is not an object
  return it != value.end() && it->is_string();
}

}  // namespace

void MessageBuilder::apply(char code, const json& value) {
  switch (code) {
    case 'f':
      if (!value.is_object()) break;
      if (has_string(value, "messageId")) id_ = value["messageId"].get<std::string>();
      parts_.push_back({{"type", "step-start"}});
      break;
    case '0': {
      if (!value.is_string()) break;
      const std::string& text = value.get_ref<const std::string&>();
      if (text_part_ < 0) {
        parts_.push_back({{"type", "text"}, {"text", text}});
        text_part_ = static_cast<long>(parts_.size()) - 1;
      } else {
        parts_[text_part_]["text"].get_ref<std::string&>() += text;
      }
      content_ += text;
      break;
    }
    case 'g': {
      if (!value.is_string()) break;
      const std::string& text = value.get_ref<const std::string&>();
      if (reasoning_part_ < 0) {
        parts_.push_back({{"type", "reasoning"},
                          {"reasoning", text},
                          {"details", json::array({{{"type", "text"}, {"text", text}}})}});
        reasoning_part_ = static_cast<long>(parts_.size()) - 1;
      } else {
        auto& part = parts_[reasoning_part_];
        part["reasoning"].get_ref<std::string&>() += text;
        if (reasoning_detail_open_)
          part["details"].back()["text"].get_ref<std::string&>() += text;
        else
          part["details"].push_back({{"type", "text"}, {"text", text}});
      }
      reasoning_detail_open_ = true;
      reasoning_ += text;
      has_reasoning_ = true;
      break;
    }
    case 'j':
      if (has_string(value, "signature") && reasoning_part_ >= 0 && reasoning_detail_open_)
        parts_[reasoning_part_]["details"].back()["signature"] = value.at("signature");
      break;
    case 'i':
      if (!has_string(value, "data")) break;
      if (reasoning_part_ < 0) {
        parts_.push_back({{"type", "reasoning"}, {"reasoning", ""}, {"details", json::array()}});
        reasoning_part_ = static_cast<long>(parts_.size()) - 1;
      }
      parts_[reasoning_part_]["details"].push_back(
          {{"type", "redacted"}, {"data", value.at("data")}});
      reasoning_detail_open_ = false;
      break;
    case '9': {
      if (!has_string(value, "toolCallId")) break;
      json invocation = {{"state", "call"}, {"step", step_}};
      invocation.update(value);
      tool_invocations_.push_back(invocation);
      put_invocation(parts_, invocation);
      break;
    }
    case 'a':
      if (!has_string(value, "toolCallId")) break;
      for (auto& invocation : tool_invocations_) {
        if (invocation["toolCallId"] != value.at("toolCallId")) continue;
        invocation["state"] = "result";
        invocation.update(value);
        put_invocation(parts_, invocation);
        break;
      }
      break;
    case 'e':
      ++step_;
      if (auto continued = value.find("isContinued");
          continued == value.end() || *continued != true)
        text_part_ = -1;
      reasoning_part_ = -1;
      reasoning_detail_open_ = false;
      break;
    default:  // d, 2, 3: not part of the message
      break;
  }
}

json MessageBuilder::message() const {
  json message = {{"id", id_},
                  {"createdAt", created_at_},
                  {"role", "assistant"},
                  {"content", content_},
                  {"parts", parts_}};
  if (!tool_invocations_.empty()) message["toolInvocations"] = tool_invocations_;
  if (has_reasoning_) message["reasoning"] = reasoning_;
  return message;
}

json rebuild_message(std::string message_id, std::string created_at, std::string_view lines) {
  MessageBuilder builder(std::move(message_id), std::move(created_at));
  while (!lines.empty()) {
    size_t end = lines.find('\n');
    std::string_view line = lines.substr(0, end);
    lines.remove_prefix(end == std::string_view::npos ? lines.size() : end + 1);
    if (line.size() < 2 || line[1] != ':') continue;  // a keep-alive, or not a part
    auto value = json::parse(line.substr(2), nullptr, /*allow_exceptions=*/false);
    if (!value.is_discarded()) builder.apply(line[0], value);
  }
  return builder.message();
}

bool DataStream::emit(char code, const json& value) {
  // A model or a tool may send U+0000, which PostgreSQL cannot store: it becomes U+FFFD here,
  // once, for the reader and the stored message alike (stored equals streamed).
  if (base::has_nul(value)) return emit(code, base::without_nul(value));
  builder_.apply(code, value);
  // The sink sees every part even after its reader left: it may record them for others.
  if (!sink_.write_line(encode_part(code, value))) gone_ = true;
  return !gone_;
}

bool DataStream::keep_alive() {
  if (!sink_.write_line("\n")) gone_ = true;
  return !gone_;
}

}  // namespace chatd::llm
