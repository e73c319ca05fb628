#include "handlers/chats.hpp"

#include "base/uuid.hpp"
#include "handlers/error.hpp"

namespace chatd::http {

namespace {

// Field order as Coder's codersdk.Chat.
nlohmann::ordered_json chat_json(const sql::ChatRecord& chat) {
  return {{"id", chat.id},
          {"created_at", chat.created_at},
          {"updated_at", chat.updated_at},
          {"title", chat.title},
          {"status", chat.running ? "running" : "idle"}};
}

// Messages per database round trip of GET …/messages.
constexpr int kMessageBatch = 8;

}  // namespace

sql::ChatRecord load_chat(Context& context, const Request& request, ChatAccess access) {
  auto id = base::parse_uuid(request.path_param("chat"));
  if (!id) throw ApiError(400, "Invalid chat ID.");
  auto chat = context.store.chats.get(*id);
  const Identity& caller = *request.identity;
  bool allowed = chat && (chat->owner_id == caller.user_id ||
                          (access == ChatAccess::kRead && caller.is_admin));
  if (!allowed) throw resource_not_found();
  return *chat;
}

void list_chats(Context& context, Request& request, ResponseWriter& out) {
  auto body = nlohmann::ordered_json::array();
  for (const auto& chat : context.store.chats.list(request.identity->user_id))
    body.push_back(chat_json(chat));
  respond_json(out, 200, body);
}

void create_chat(Context& context, Request& request, ResponseWriter& out) {
  respond_json(out, 201, chat_json(context.store.chats.create(request.identity->user_id)));
}

void get_chat(Context& context, Request& request, ResponseWriter& out) {
  respond_json(out, 200, chat_json(load_chat(context, request, ChatAccess::kRead)));
}

void list_chat_messages(Context& context, Request& request, ResponseWriter& out) {
  auto chat = load_chat(context, request, ChatAccess::kRead);
  // Written batch by batch as they are read: a chat may hold more than a worker should have in
  // memory at once (messages of megabytes each). The first batch is read before the status,
  // so that a database that is away still gets its 503; a failure after it cuts the array off.
  auto batch = context.store.messages.batch(chat.id, 0, kMessageBatch);
  if (!out.start(200, {{"Content-Type", "application/json; charset=utf-8"}}) || !out.write("["))
    return;
  std::string_view separator;
  while (true) {
    for (auto& content : batch.contents) {
      if (!out.write(separator) || !out.write(escape_html_in_json(std::move(content)))) return;
      separator = ",";
    }
    if (batch.contents.size() < static_cast<size_t>(kMessageBatch)) break;
    batch = context.store.messages.batch(chat.id, batch.last_id, kMessageBatch);
  }
  out.write("]");
}

}  // namespace chatd::http
