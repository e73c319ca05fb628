#include "handlers/messages.hpp"

#include <algorithm>

#include "base/clock.hpp"
#include "base/json_text.hpp"
#include "base/token.hpp"
#include "handlers/chats.hpp"
#include "handlers/error.hpp"
#include "handlers/files.hpp"
#include "handlers/live_reply.hpp"
#include "handlers/observer.hpp"
#include "handlers/replies.hpp"
#include "handlers/usage.hpp"
#include "llm/conversation.hpp"
#include "llm/title.hpp"

namespace chatd::http {

using nlohmann::json;

namespace {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxParts = 200;

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

}  // namespace

ChatMessageRequest decode_chat_message(const std::string& body) {
  // The JSON parser stops at a NUL byte: what follows would go unseen.
  if (body.find('\0') != std::string::npos)
    bad_request("invalid JSON: the body contains a NUL byte");
  json doc;
  try {
    // Deep nesting is refused while parsing: later walks over the message recurse.
    doc = json::parse(body, [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxDepth) throw std::length_error("nesting");
      return true;
    });
  } catch (const std::length_error&) {
    bad_request("the JSON is nested more than " + std::to_string(kMaxDepth) + " levels deep");
  } catch (const json::exception& e) {  // syntax errors, and numbers out of range
    bad_request("invalid JSON: " + base::parse_error_text(e));
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
  if (in.contains("parts") && in["parts"].size() > kMaxParts)
    bad_request("\"message.parts\" may hold at most " + std::to_string(kMaxParts) + " parts");
  for (const auto& part : in.value("parts", json::array()))
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
      bad_request("every item of \"message.parts\" must be an object with a string \"type\"");
  for (const char* key : {"experimental_attachments", "annotations"})
    if (in.contains(key) && !in[key].is_array())
      bad_request("\"message." + std::string(key) + "\" must be an array");

  json message = {{"id", in.value("id", "")},
                  {"createdAt", base::now_rfc3339()},
                  {"role", "user"},
                  {"content", in.value("content", "")}};
  if (message["id"] == "") message["id"] = "msg-" + base::random_alphanumeric(24);
  message["parts"] = in.value("parts", json::array());
  if (message["parts"].empty() && !message["content"].get<std::string>().empty())
    message["parts"].push_back({{"type", "text"}, {"text", message["content"]}});
  for (const char* key : {"experimental_attachments", "annotations"})
    if (in.contains(key)) message[key] = in[key];
  if (!llm::has_user_content(message))
    bad_request("the message is empty: give \"content\", \"parts\" or attachments");
  // PostgreSQL's jsonb cannot hold U+0000; no text needs it.
  if (base::has_nul(message)) bad_request("text must not contain NUL characters (\\u0000)");
  out.message = std::move(message);
  return out;
}

json history_window(const std::vector<std::string>& newest_first, size_t keep, bool whole) {
  json window = json::array();
  if (whole && newest_first.size() < keep) {  // the whole chat and the new message fit
    for (auto row = newest_first.rbegin(); row != newest_first.rend(); ++row)
      window.push_back(json::parse(*row));
    return window;
  }
  // At most `keep` - 1 stored messages and the new one, then the start moves forward to a user
  // message.
  bool started = false;
  for (size_t i = std::min(keep - 1, newest_first.size()); i-- > 0;) {
    json message = json::parse(newest_first[i]);
    if (!started && message.value("role", "") != "user") continue;
    started = true;
    window.push_back(std::move(message));
  }
  return window;
}

namespace {

// Idempotency-Key (API.md §7): 1-255 printable ASCII characters.
std::string idempotency_key(const Request& request) {
  const std::string* key = request.header("idempotency-key");
  if (!key) return {};
  bool printable =
      std::all_of(key->begin(), key->end(), [](char c) { return c >= 0x20 && c < 0x7f; });
  if (key->empty() || key->size() > 255 || !printable)
    bad_request("Idempotency-Key must be 1 to 255 printable ASCII characters");
  return *key;
}

// What makes two requests the same request: the body without what the server assigns, and
// the message edited, if any.
std::string request_hash(const ChatMessageRequest& decoded, const std::string* edited) {
  json message = decoded.message;
  message.erase("createdAt");
  message.erase("id");
  json request = {{"model", decoded.model}, {"message", message}, {"thinking", decoded.thinking}};
  if (edited) request["edits"] = *edited;
  return base::hash_secret(base::json_text(request));
}

// max-message-size and max-chat-size, in bytes of JSON as stored (`chat.stored_bytes` without
// what an edit deletes). A reply may take a chat past its limit (by at most max-message-size);
// the next message is refused.
void check_stored_size(const ReplySettings& limits, const sql::ChatRecord& chat, uint64_t size) {
  if (size > limits.max_message_bytes)
    throw ApiError(413, "Message too large.",
                   "The message is " + std::to_string(size) +
                       " bytes of JSON; a message may have at most " +
                       std::to_string(limits.max_message_bytes) + ".");
  if (static_cast<uint64_t>(chat.stored_bytes) + size > limits.max_chat_bytes)
    throw ApiError(400, "This chat is full.",
                   "It stores " + std::to_string(chat.stored_bytes) +
                       " bytes of messages and may store at most " +
                       std::to_string(limits.max_chat_bytes) + "; start a new chat.");
}

// POST …/messages, and PATCH …/messages/{message} with `edited` (API.md §4, §8): stores the
// user's message (for an edit, in place of the edited one and all after it) and streams the
// reply.
void send_message(Context& context, Request& request, ResponseWriter& out,
                  const std::string* edited) {
  auto chat = load_chat(context, request, ChatAccess::kWrite);
  if (edited) {
    auto removed = context.store.messages.edit_target(chat.id, *edited);
    if (!removed) throw resource_not_found();
    chat.stored_bytes = std::max(0LL, chat.stored_bytes - *removed);
  }
  auto decoded = decode_chat_message(request.body);
  if (edited) decoded.message["id"] = *edited;  // stored under the same id
  std::string key = idempotency_key(request);
  const llm::Model* model = context.models.find(decoded.model);
  if (!model) throw ApiError(400, "Model not found");
  const std::string stored_message = base::json_text(decoded.message);
  check_stored_size(context.reply, chat, stored_message.size());
  const std::string& user_id = request.identity->user_id;
  std::vector<std::string> files = attached_files(context, user_id, decoded.message);
  Observer& observer = context.observer ? *context.observer : no_observer();
  observer.on_model(model->id);

  std::string message_id = "msg-" + base::random_alphanumeric(24);
  const sql::NewReply reply{
      chat.id,
      message_id,
      request.identity->user_id,
      model->id,
      model->provider_type,
      context.worker,
      key,
      key.empty() ? "" : request_hash(decoded, edited),
      context.reply.max_replies_per_user,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - request.received).count(),
      context.reply.budget};
  auto claim = context.store.replies.begin(reply);
  if (claim.outcome == sql::ReplyClaim::kUserLimit)
    throw ApiError(429, "Too many replies are running for you; wait for one to finish.", {}, {},
                   {{"Retry-After", "5"}});
  if (claim.outcome == sql::ReplyClaim::kBudgetReached)
    throw ApiError(409, kUsageLimitReached, usage_limit_detail(*claim.budget));
  if (claim.outcome == sql::ReplyClaim::kBusy)
    throw ApiError(409, "A reply is already being generated for this chat.");
  if (claim.outcome == sql::ReplyClaim::kRepeat) {
    if (!claim.same_request)
      throw ApiError(422, "Idempotency-Key reused with a different request.");
    // The first reply still runs: follow it. It ended: say so, with its message id.
    if (!follow_reply(context, chat.id, 0, out, claim.message_id))
      throw ApiError(409, "This message was already sent.", claim.message_id);
    return;
  }

  // Storing the message also reads the newest of the chat before it, in the same round trip:
  // only those, so the cost does not grow with the chat.
  size_t keep = static_cast<size_t>(std::max(1, context.reply.max_history_messages));
  sql::RecentMessages before;
  try {
    before =
        context.store.messages.append({chat.id, model->id, model->provider_type, stored_message,
                                       std::nullopt, std::nullopt, std::nullopt, std::move(files)},
                                      static_cast<int>(keep), context.reply.max_history_bytes,
                                      edited ? std::optional<std::string>(*edited) : std::nullopt);
  } catch (...) {
    // Nothing was stored: the chat is free again, and so is the key, for the client's retry.
    try {
      if (!key.empty()) context.store.idempotency.forget(reply);
    } catch (...) {
      // The database is failing: the error below says so; the key stays taken (24 h).
    }
    try {
      context.store.replies.finish(chat.id, message_id, {}, std::nullopt,
                                   {std::string(llm::wire_name(llm::FinishReason::kError)), true},
                                   std::nullopt, std::nullopt);
    } catch (...) {
      // Recovery frees the chat once the claim's heartbeat is stale.
    }
    throw;
  }
  json history = history_window(before.newest_first, keep, before.whole);
  history.push_back(decoded.message);
  // The model gets the bytes of uploaded attachments (a read of the database, before the
  // headers: a failure here is still the request's error status).
  inline_attachments(context, user_id, history);
  out.start(200, stream_headers());
  LiveReplyStart start{
      out.go_live(),      chat.id,          request.identity->user_id, *model,       message_id,
      std::move(history), decoded.thinking, claim.cancelled,           std::nullopt, {}};
  if (!before.has_user_message) {  // the chat's first message names it
    start.title_from = decoded.message;
    start.fallback_title = llm::fallback_title(message_text(decoded.message));
  }
  start_live_reply(context, std::move(start));
}

}  // namespace

void post_chat_message(Context& context, Request& request, ResponseWriter& out) {
  send_message(context, request, out, nullptr);
}

void edit_chat_message(Context& context, Request& request, ResponseWriter& out) {
  send_message(context, request, out, &request.path_param("message"));
}

}  // namespace chatd::http
