#include "handlers/chats.hpp"

#include "base/json_text.hpp"
#include "base/utf8.hpp"
#include "base/uuid.hpp"
#include "handlers/auth.hpp"
#include "handlers/chat_query.hpp"
#include "handlers/error.hpp"

namespace chatd::http {

// Field order as Coder's codersdk.Chat, then API.md §8's.
nlohmann::ordered_json chat_json(const sql::ChatRecord& chat) {
  return {{"id", chat.id},
          {"created_at", chat.created_at},
          {"updated_at", chat.updated_at},
          {"title", chat.title},
          {"status", chat.running ? "running" : "idle"},
          {"archived", chat.archived},
          {"pin_order", chat.pin_order},
          {"labels", nlohmann::ordered_json::parse(chat.labels)}};
}

namespace {

constexpr size_t kMaxTitle = 200;
constexpr size_t kMaxLabels = 50;
constexpr size_t kMaxLabelValue = 256;

[[noreturn]] void invalid_field(const std::string& field, const std::string& detail) {
  throw ApiError(400, "Validation failed.", {}, {{field, detail}});
}

// PATCH /api/v2/chats/{chat}'s body (API.md §8): every field optional, unknown ones refused.
sql::ChatChange decode_chat_change(const std::string& body) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(body.empty() ? "{}" : body);
  } catch (const nlohmann::json::exception& e) {
    throw ApiError(400, "Request body must be valid JSON.", base::parse_error_text(e));
  }
  if (!doc.is_object()) throw ApiError(400, "Request body must be a JSON object.");
  sql::ChatChange change;
  for (const auto& [field, value] : doc.items()) {
    if (field == "title") {
      if (!value.is_string()) invalid_field(field, "title must be a string");
      auto title = base::utf8_trim_space(value.get_ref<const std::string&>());
      size_t length = base::utf8_length(title);
      if (length < 1 || length > kMaxTitle)
        invalid_field(field, "title must be 1 to " + std::to_string(kMaxTitle) +
                                 " characters after trimming");
      if (base::utf8_has_control(title))
        invalid_field(field, "title must not contain control characters");
      change.title = std::string(title);
    } else if (field == "archived") {
      if (!value.is_boolean()) invalid_field(field, "archived must be a boolean");
      change.archived = value.get<bool>();
    } else if (field == "pin_order") {
      if (!value.is_number_integer() || value.get<long long>() < 0 ||
          value.get<long long>() > std::numeric_limits<int>::max())
        invalid_field(field, "pin_order must be an integer of at least 0");
      change.pin_order = value.get<int>();
    } else if (field == "labels") {
      if (!value.is_object()) invalid_field(field, "labels must be an object of strings");
      if (value.size() > kMaxLabels)
        invalid_field(field, "labels may hold at most " + std::to_string(kMaxLabels) + " entries");
      for (const auto& [key, label] : value.items()) {
        if (!valid_label_key(key))
          invalid_field(field, std::string("label keys are 1 to 64 of A-Z a-z 0-9 _ . -: \"")
                                   .append(key)
                                   .append("\""));
        if (!label.is_string() ||
            base::utf8_length(label.get_ref<const std::string&>()) > kMaxLabelValue)
          invalid_field(field, "label values are strings of at most " +
                                   std::to_string(kMaxLabelValue) + " characters");
      }
      change.labels = value.dump();
    } else {
      invalid_field(field, "unknown field");
    }
  }
  return change;
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
  auto query = chat_list_query(request);
  auto limit = query.limit;
  if (limit) ++*query.limit;  // one more says whether a next page follows
  auto listed = context.store.chats.list(key_check(context, request), query);
  admit(context, request, listed.key);
  if (!listed.value.cursor_found) throw ApiError(400, "Invalid chat cursor.");
  auto& chats = listed.value.chats;
  Headers headers;
  if (limit && chats.size() > static_cast<size_t>(*limit)) {
    chats.resize(*limit);
    headers.emplace_back("Link", page_link(request, {}, {{"before", chats.back().id}}, "next"));
  }
  auto body = nlohmann::ordered_json::array();
  for (const auto& chat : chats) body.push_back(chat_json(chat));
  respond_json(out, 200, body, std::move(headers));
}

void create_chat(Context& context, Request& request, ResponseWriter& out) {
  respond_json(out, 201, chat_json(context.store.chats.create(request.identity->user_id)));
}

void get_chat(Context& context, Request& request, ResponseWriter& out) {
  respond_json(out, 200, chat_json(load_chat(context, request, ChatAccess::kRead)));
}

void update_chat(Context& context, Request& request, ResponseWriter& out) {
  auto chat = load_chat(context, request, ChatAccess::kWrite);
  auto change = decode_chat_change(request.body);
  bool nothing = !change.title && !change.archived && !change.pin_order && !change.labels;
  if (!nothing && !context.store.chats.update(chat.id, chat.owner_id, change))
    throw resource_not_found();  // deleted meanwhile
  out.start(204, {});
}

void delete_chat(Context& context, Request& request, ResponseWriter& out) {
  auto chat = load_chat(context, request, ChatAccess::kWrite);
  if (!context.store.chats.remove(chat.id, chat.owner_id)) throw resource_not_found();
  out.start(204, {});
}

namespace {

// GET …/messages with limit, before_id or after_id (API.md §8).
void list_message_page(Context& context, Request& request, ResponseWriter& out,
                       const sql::MessagePageQuery& query) {
  auto chat = load_chat(context, request, ChatAccess::kRead);
  auto page = context.store.messages.page(chat.id, query);
  if (!page.cursors_found) throw ApiError(400, "Invalid message cursor.");
  std::string links;
  auto limit = std::to_string(query.limit);
  auto link = [&](std::string_view cursor, std::string_view id, std::string_view rel) {
    if (!links.empty()) links += ", ";
    links += page_link(request, {"before_id", "after_id"}, {{"limit", limit}, {cursor, id}}, rel);
  };
  if (page.older) link("before_id", page.first_id, "prev");
  if (page.newer) link("after_id", page.last_id, "next");
  Headers headers;
  if (!links.empty()) headers.emplace_back("Link", std::move(links));
  std::string body = "[";
  for (size_t i = 0; i < page.contents.size(); ++i) {
    if (i) body += ",";
    body += page.contents[i];
  }
  body += "]";
  respond(out, 200, "application/json; charset=utf-8", escape_html_in_json(std::move(body)),
          std::move(headers));
}

}  // namespace

void list_chat_messages(Context& context, Request& request, ResponseWriter& out) {
  if (auto page = message_page_query(request))
    return list_message_page(context, request, out, *page);
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
