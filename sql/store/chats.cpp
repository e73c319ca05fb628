#include "sql/store/chats.hpp"

#include "sql/channels.hpp"
#include "sql_queries.hpp"

namespace chatd::sql {

namespace {

ChatRecord chat_from_row(const pqxx::row& row) {
  ChatRecord chat;
  chat.id = row["id"].c_str();
  chat.created_at = row["created_at"].c_str();
  chat.updated_at = row["updated_at"].c_str();
  chat.title = row["title"].c_str();
  chat.archived = row["archived"].as<bool>();
  chat.pin_order = row["pin_order"].as<int>();
  chat.labels = row["labels"].c_str();
  chat.running = row["running"].as<bool>();
  return chat;
}

}  // namespace

Authenticated<ChatPage> ChatStore::list(const KeyCheck& caller, const ChatListQuery& query) {
  // The sidebar's list (no filter but archived or not) follows the index; a search reads more.
  bool plain = query.archived && !query.running && !query.title && query.labels == "[]" &&
               query.words == "[]";
  auto rows = plain ? exec(query::chats_list, caller.key_id, caller.hashed_secret,
                           caller.limit.seconds_per_request, caller.limit.burst, *query.archived,
                           query.limit, query.before)
                    : exec(query::chats_search, caller.key_id, caller.hashed_secret,
                           caller.limit.seconds_per_request, caller.limit.burst, query.archived,
                           query.running, query.title, query.labels, query.words, query.limit,
                           query.before);
  Authenticated<ChatPage> listed{key_from_rows(rows)};
  if (!rows.empty()) listed.value.cursor_found = rows[0]["cursor_found"].as<bool>();
  for (const auto& row : rows)
    if (!row["id"].is_null()) listed.value.chats.push_back(chat_from_row(row));
  return listed;
}

ChatRecord ChatStore::create(const std::string& owner_id) {
  auto chat = chat_from_row(exec1(kNoRetry, query::chats_insert, owner_id));
  chat.owner_id = owner_id;
  return chat;
}

Authenticated<ChatRead> ChatStore::get(const KeyCheck& caller, const std::string& id,
                                       std::optional<uint64_t> messages_up_to) {
  auto rows = exec(query::chats_get, caller.key_id, caller.hashed_secret,
                   caller.limit.seconds_per_request, caller.limit.burst, id,
                   messages_up_to.has_value(), static_cast<long long>(messages_up_to.value_or(0)));
  Authenticated<ChatRead> read{key_from_rows(rows)};
  if (rows.empty() || rows[0]["id"].is_null()) return read;
  auto& chat = read.value.chat.emplace(chat_from_row(rows[0]));
  chat.owner_id = rows[0]["owner_id"].c_str();
  chat.stored_bytes = rows[0]["stored_bytes"].as<long long>();
  if (messages_up_to && static_cast<uint64_t>(chat.stored_bytes) <= *messages_up_to) {
    const auto& messages = rows[0]["messages"];
    read.value.messages.emplace(messages.c_str(), messages.size());  // NULL: ""
  }
  return read;
}

std::optional<ChatRecord> ChatStore::find(const std::string& chat_id, const std::string& owner_id) {
  auto rows = exec(query::chats_find, chat_id, owner_id);
  if (rows.empty()) return std::nullopt;
  return chat_from_row(rows[0]);
}

void ChatStore::set_title(const std::string& chat_id, const std::string& title) {
  exec(query::chats_set_title, chat_id, title);
}

bool ChatStore::update(const std::string& chat_id, const std::string& owner_id,
                       const ChatChange& change) {
  return !exec(query::chats_update, chat_id, owner_id, change.title, change.archived,
               change.pin_order, change.labels)
              .empty();
}

size_t ChatStore::expire(std::chrono::seconds age, int batch) {
  auto row = exec1(kNoRetry, query::chats_expire, static_cast<double>(age.count()), batch,
                   kCancelChannel, kReplyChannelPrefix);
  return row["deleted"].as<size_t>();
}

bool ChatStore::remove(const std::string& chat_id, const std::string& owner_id) {
  return !exec(kNoRetry, query::chats_delete, chat_id, owner_id, kCancelChannel,
               reply_channel(chat_id))
              .empty();
}

}  // namespace chatd::sql
