#include "handlers/chats.hpp"

#include "base/uuid.hpp"
#include "handlers/auth.hpp"
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

// GET …/messages reads a chat whose messages take at most this much JSON in the statement
// that authenticates the caller; a larger one in batches of kMessageBatch messages, written as
// they are read, so that a request holds one batch in memory, never a whole large chat.
constexpr uint64_t kAllMessagesBytes = 1 << 20;
constexpr int kMessageBatch = 8;

// The {chat} of the path, read in the statement that authenticates the caller (with its
// messages, when they take at most `messages_up_to` bytes), if the caller may read (owner or
// site admin) or write (owner only) it.
sql::ChatRead read_chat(Context& context, Request& request, ChatAccess access,
                        std::optional<uint64_t> messages_up_to = std::nullopt) {
  auto id = base::parse_uuid(request.path_param("chat"));
  if (!id) {
    authenticate(context, request);  // a 401 goes before the 400
    throw ApiError(400, "Invalid chat ID.");
  }
  auto read = context.store.chats.get(key_check(context, request), *id, messages_up_to);
  const Identity& caller = admit(context, request, read.key);
  const auto& chat = read.value.chat;
  bool allowed = chat && (chat->owner_id == caller.user_id ||
                          (access == ChatAccess::kRead && caller.is_admin));
  if (!allowed) throw resource_not_found();
  return std::move(read.value);
}

// The messages as the JSON array's elements, one write each.
bool write_messages(ResponseWriter& out, std::vector<std::string>& contents,
                    std::string_view& separator) {
  for (auto& content : contents) {
    if (!out.write(separator) || !out.write(escape_html_in_json(std::move(content)))) return false;
    separator = ",";
  }
  return true;
}

}  // namespace

sql::ChatRecord load_chat(Context& context, Request& request, ChatAccess access) {
  return *read_chat(context, request, access).chat;
}

void list_chats(Context& context, Request& request, ResponseWriter& out) {
  auto listed = context.store.chats.list(key_check(context, request));
  admit(context, request, listed.key);
  auto body = nlohmann::ordered_json::array();
  for (const auto& chat : listed.value) body.push_back(chat_json(chat));
  respond_json(out, 200, body);
}

void create_chat(Context& context, Request& request, ResponseWriter& out) {
  respond_json(out, 201, chat_json(context.store.chats.create(request.identity->user_id)));
}

void get_chat(Context& context, Request& request, ResponseWriter& out) {
  respond_json(out, 200, chat_json(load_chat(context, request, ChatAccess::kRead)));
}

void list_chat_messages(Context& context, Request& request, ResponseWriter& out) {
  auto read = read_chat(context, request, ChatAccess::kRead, kAllMessagesBytes);
  // A small chat came with its read; a large one is read batch by batch, the first before the
  // status, so that a database that is away still gets its 503 (a failure after it cuts the
  // array off).
  sql::MessageBatch batch;
  if (!read.messages) batch = context.store.messages.batch(read.chat->id, 0, kMessageBatch);
  if (!out.start(200, {{"Content-Type", "application/json; charset=utf-8"}}) || !out.write("["))
    return;
  if (read.messages) {
    if (!out.write(escape_html_in_json(std::move(*read.messages)))) return;
  } else {
    std::string_view separator;
    while (write_messages(out, batch.contents, separator) &&
           batch.contents.size() == static_cast<size_t>(kMessageBatch))
      batch = context.store.messages.batch(read.chat->id, batch.last_id, kMessageBatch);
  }
  out.write("]");
}

}  // namespace chatd::http
