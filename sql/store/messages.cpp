#include "sql/store/messages.hpp"

#include "sql_queries.hpp"

namespace chatd::sql {

MessageBatch MessageStore::batch(const std::string& chat_id, long long after_id, int size) {
  MessageBatch batch;
  for (const auto& row : exec(query::chat_messages_list, chat_id, after_id, size)) {
    batch.contents.emplace_back(row["content"].c_str(), row["content"].size());
    batch.last_id = row["id"].as<long long>();
  }
  return batch;
}

MessagePage MessageStore::page(const std::string& chat_id, const MessagePageQuery& query) {
  auto rows =
      exec(query::chat_messages_page, chat_id, query.limit, query.before_id, query.after_id);
  MessagePage page;
  page.cursors_found = rows[0]["cursors_found"].as<bool>();
  page.older = rows[0]["older"].as<bool>();
  page.newer = rows[0]["newer"].as<bool>();
  for (const auto& row : rows) {
    if (row["content"].is_null()) continue;
    page.contents.emplace_back(row["content"].c_str(), row["content"].size());
    if (page.first_id.empty()) page.first_id = row["message_id"].c_str();
    page.last_id = row["message_id"].c_str();
  }
  return page;
}

std::optional<long long> MessageStore::edit_target(const std::string& chat_id,
                                                   const std::string& message_id) {
  auto rows = exec(query::chat_messages_edit_target, chat_id, message_id);
  if (rows.empty()) return std::nullopt;
  return rows[0]["bytes"].as<long long>();
}

RecentMessages MessageStore::append(const StoredMessage& m, int recent, uint64_t max_bytes,
                                    const std::optional<std::string>& edited) {
  auto rows = exec(kNoRetry, query::chat_messages_append, m.chat_id, m.model, m.provider, m.content,
                   m.finish_reason, m.prompt_tokens, m.completion_tokens, recent,
                   static_cast<long long>(max_bytes), edited, uuid_array(m.file_ids));
  RecentMessages before;
  before.newest_first.reserve(rows.size());
  for (const auto& row : rows)
    if (!row["content"].is_null())
      before.newest_first.emplace_back(row["content"].c_str(), row["content"].size());
  auto fetched = rows[0]["fetched"].as<long long>();
  before.whole = fetched < recent && before.newest_first.size() == static_cast<size_t>(fetched);
  before.has_user_message = rows[0]["has_user"].as<bool>();
  return before;
}

}  // namespace chatd::sql
