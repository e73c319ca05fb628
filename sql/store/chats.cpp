#include "sql/store/chats.hpp"

#include "sql_queries.hpp"

namespace chatd::sql {

namespace {

ChatRecord chat_from_row(const pqxx::row& row) {
  ChatRecord chat;
  chat.id = row["id"].c_str();
  chat.created_at = row["created_at"].c_str();
  chat.updated_at = row["updated_at"].c_str();
  chat.title = row["title"].c_str();
  chat.running = row["running"].as<bool>();
  return chat;
}

}  // namespace

std::vector<ChatRecord> ChatStore::list(const std::string& owner_id) {
  std::vector<ChatRecord> chats;
  for (const auto& row : exec(query::chats_list, owner_id)) chats.push_back(chat_from_row(row));
  return chats;
}

ChatRecord ChatStore::create(const std::string& owner_id) {
  auto chat = chat_from_row(exec1(kNoRetry, query::chats_insert, owner_id));
  chat.owner_id = owner_id;
  return chat;
}

std::optional<ChatRecord> ChatStore::get(const std::string& id) {
  auto rows = exec(query::chats_get, id);
  if (rows.empty()) return std::nullopt;
  auto chat = chat_from_row(rows[0]);
  chat.owner_id = rows[0]["owner_id"].c_str();
  chat.stored_bytes = rows[0]["stored_bytes"].as<long long>();
  return chat;
}

void ChatStore::set_title(const std::string& chat_id, const std::string& title) {
  exec(query::chats_set_title, chat_id, title);
}

}  // namespace chatd::sql
