#include "handlers/messages.hpp"

#include "handlers/chats.hpp"
#include "handlers/clock.hpp"
#include "handlers/error.hpp"
#include "handlers/token.hpp"

namespace chatd::http {

using nlohmann::json;

namespace {

// A reply whose heartbeat is older than this is taken to be dead (its worker crashed).
constexpr int kReplyStaleSeconds = 30;
constexpr auto kHeartbeatInterval = std::chrono::seconds(10);

[[noreturn]] void bad_request(const std::string& detail) {
  throw ApiError(400, "Failed to decode chat message", detail);
}

std::string message_text(const json& message) {
  std::string text;
  for (const auto& part : message["parts"])
    if (part.value("type", "") == "text" && part.contains("text") && part["text"].is_string())
      text += part["text"].get<std::string>();
  return text.empty() ? message["content"].get<std::string>() : text;
}

// The fallback title: the first 40 characters of the user's text, trimmed.
std::string fallback_title(const json& message) {
  auto title = llm::clean_title(message_text(message));
  return title.empty() ? "New Chat" : title;
}

// The part sink of a reply: every line is flushed to nginx as it is produced.
class ResponseSink : public llm::PartSink {
 public:
  explicit ResponseSink(ResponseWriter& out) : out_(out) {}
  bool write_line(std::string_view line) override { return out_.write(line) && out_.flush(); }

 private:
  ResponseWriter& out_;
};

// Holds the chat's one-reply claim and gives it back however the reply ends.
class ReplyClaim {
 public:
  ReplyClaim(sql::Store& store, std::string chat_id, std::string message_id)
      : store_(store), chat_id_(std::move(chat_id)), message_id_(std::move(message_id)) {}
  ~ReplyClaim() {
    try {
      store_.end_reply(chat_id_, message_id_);
    } catch (...) {
      // The heartbeat stops with us: the claim goes stale and frees itself.
    }
  }
  ReplyClaim(const ReplyClaim&) = delete;
  ReplyClaim& operator=(const ReplyClaim&) = delete;
  void heartbeat() {
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < kHeartbeatInterval) return;
    last_ = now;
    try {
      store_.heartbeat_reply(chat_id_, message_id_);
    } catch (...) {
    }
  }

 private:
  sql::Store& store_;
  std::string chat_id_;
  std::string message_id_;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// Model text may hold invalid UTF-8: it is stored with U+FFFD, as it was streamed.
std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

ChatMessageRequest decode_chat_message(const std::string& body) {
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, ..." without the tag.
    std::string what = e.what();
    auto bracket = what.find("] ");
    bad_request("invalid JSON: " + (bracket == std::string::npos ? what : what.substr(bracket + 2)));
  }
  if (!doc.is_object()) bad_request("the body must be a JSON object");
  ChatMessageRequest out;
  if (!doc.contains("model")) bad_request("\"model\" is required");
  if (!doc["model"].is_string()) bad_request("\"model\" must be a string");
  out.model = doc["model"].get<std::string>();
  if (out.model.empty()) bad_request("\"model\" must not be empty");
  if (doc.contains("thinking") && !doc["thinking"].is_null()) {
    if (!doc["thinking"].is_boolean()) bad_request("\"thinking\" must be a boolean");
    out.thinking = doc["thinking"].get<bool>();
  }
  if (!doc.contains("message")) bad_request("\"message\" is required");
  const json& in = doc["message"];
  if (!in.is_object()) bad_request("\"message\" must be an object");
  if (in.value("role", json()) != "user") bad_request("\"message.role\" must be \"user\"");
  if (in.contains("id") && !in["id"].is_string()) bad_request("\"message.id\" must be a string");
  if (in.contains("content") && !in["content"].is_string())
    bad_request("\"message.content\" must be a string");
  if (in.contains("parts") && !in["parts"].is_array())
    bad_request("\"message.parts\" must be an array");
  for (const auto& part : in.value("parts", json::array()))
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
      bad_request("every item of \"message.parts\" must be an object with a string \"type\"");
  for (const char* key : {"experimental_attachments", "annotations"})
    if (in.contains(key) && !in[key].is_array())
      bad_request("\"message." + std::string(key) + "\" must be an array");

  json message = {{"id", in.value("id", "")},
                  {"createdAt", now_rfc3339()},
                  {"role", "user"},
                  {"content", in.value("content", "")}};
  if (message["id"] == "") message["id"] = "msg-" + random_alphanumeric(24);
  message["parts"] = in.value("parts", json::array());
  if (message["parts"].empty() && !message["content"].get<std::string>().empty())
    message["parts"].push_back({{"type", "text"}, {"text", message["content"]}});
  for (const char* key : {"experimental_attachments", "annotations"})
    if (in.contains(key)) message[key] = in[key];
  if (message["parts"].empty() && !message.contains("experimental_attachments"))
    bad_request("the message is empty: give \"content\", \"parts\" or attachments");
  out.message = std::move(message);
  return out;
}

void post_chat_message(Context& context, Request& request, ResponseWriter& out) {
  auto chat = load_chat(context, request, ChatAccess::kWrite);
  auto decoded = decode_chat_message(request.body);
  const llm::Model* model = context.models.find(decoded.model);
  if (!model) throw ApiError(400, "Model not found");

  std::string message_id = "msg-" + random_alphanumeric(24);
  if (!context.store.begin_reply(chat.id, message_id, kReplyStaleSeconds))
    throw ApiError(409, "A reply is already being generated for this chat.");
  ReplyClaim claim(context.store, chat.id, message_id);

  json history = json::parse(context.store.chat_messages_json(chat.id));
  bool first_user_message = std::none_of(history.begin(), history.end(), [](const json& m) {
    return m.is_object() && m.value("role", "") == "user";
  });
  context.store.insert_message(
      {chat.id, model->id, model->provider_type, dump(decoded.message), "", "", ""});
  history.push_back(decoded.message);

  out.start(200, {{"Content-Type", "text/plain; charset=utf-8"},
                  {"X-Vercel-AI-Data-Stream", "v1"},
                  {"Cache-Control", "no-cache"},
                  {"X-Accel-Buffering", "no"}});
  out.flush();

  llm::ReplyInputs inputs{*model->provider, context.transport, {}, message_id, now_rfc3339(),
                          context.tools, std::nullopt, nullptr, context.reply.options};
  inputs.request.model = model->id;
  inputs.request.system_prompt = context.reply.system_prompt;
  inputs.request.messages = std::move(history);
  inputs.request.thinking = decoded.thinking;
  inputs.on_tick = [&claim] { claim.heartbeat(); };
  if (first_user_message) {
    inputs.title = llm::TitleJob{
        llm::start_title(*model->provider, context.transport, model->id, decoded.message),
        fallback_title(decoded.message), [&](const std::string& title) {
          try {
            context.store.set_chat_title(chat.id, title);
          } catch (...) {
            // A title that cannot be stored never fails the reply.
          }
        }};
  }
  ResponseSink sink(out);
  auto result = llm::run_reply(std::move(inputs), sink);
  if (result.message["parts"].empty()) return;
  auto number = [](const std::optional<long long>& v) { return v ? std::to_string(*v) : ""; };
  context.store.insert_message({chat.id, model->id, model->provider_type, dump(result.message),
                                result.finish_reason, number(result.usage.prompt_tokens),
                                number(result.usage.completion_tokens)});
}

}  // namespace chatd::http
