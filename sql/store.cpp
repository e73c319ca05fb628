#include "sql/store.hpp"

#include <optional>

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

bool Store::ping() {
  return pool_.run([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx.exec_prepared("health_ping").size() == 1;
  });
}

std::optional<ApiKeyRecord> Store::find_api_key(const std::string& id,
                                                const std::string& hashed_secret,
                                                const RateLimit& limit) {
  return pool_.run([&](pqxx::connection& c) -> std::optional<ApiKeyRecord> {
    pqxx::nontransaction tx(c);
    auto rows = tx.exec_prepared("auth_find_key", id, hashed_secret, limit.seconds_per_request,
                                 limit.burst);
    if (rows.empty()) return std::nullopt;
    const auto& row = rows[0];
    ApiKeyRecord key;
    key.hashed_secret = row["hashed_secret"].c_str();
    key.expires_at = row["expires_at"].c_str();
    key.expired = row["expired"].as<bool>();
    key.user_id = row["user_id"].c_str();
    key.user_status = row["status"].c_str();
    key.user_is_admin = row["is_admin"].as<bool>();
    if (!row["retry_after"].is_null()) key.retry_after = row["retry_after"].as<double>();
    return key;
  });
}

std::vector<ChatRecord> Store::list_chats(const std::string& owner_id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::vector<ChatRecord> chats;
    for (const auto& row : tx.exec_prepared("chats_list", owner_id))
      chats.push_back(chat_from_row(row));
    return chats;
  });
}

ChatRecord Store::create_chat(const std::string& owner_id) {
  return pool_.run(
      [&](pqxx::connection& c) {
        pqxx::nontransaction tx(c);
        auto chat = chat_from_row(tx.exec_prepared1("chats_insert", owner_id));
        chat.owner_id = owner_id;
        return chat;
      },
      /*idempotent=*/false);
}

std::optional<ChatRecord> Store::get_chat(const std::string& id) {
  return pool_.run([&](pqxx::connection& c) -> std::optional<ChatRecord> {
    pqxx::nontransaction tx(c);
    auto rows = tx.exec_prepared("chats_get", id);
    if (rows.empty()) return std::nullopt;
    auto chat = chat_from_row(rows[0]);
    chat.owner_id = rows[0]["owner_id"].c_str();
    return chat;
  });
}

std::string Store::chat_messages_json(const std::string& chat_id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::string out = "[";
    for (const auto& row : tx.exec_prepared("chat_messages_list", chat_id)) {
      if (out.size() > 1) out += ',';
      out += row[0].c_str();
    }
    out += ']';
    return out;
  });
}

Store::ReplyClaim Store::begin_reply(const NewReply& r) {
  return pool_.run(
      [&](pqxx::connection& c) -> ReplyClaim {
        pqxx::work tx(c);
        if (!r.idempotency_key.empty()) {
          auto claimed = tx.exec_prepared("idempotency_claim", r.user_id, r.chat_id,
                                          r.idempotency_key, r.request_hash, r.message_id);
          if (claimed.empty()) {
            auto previous =
                tx.exec_prepared1("idempotency_find", r.user_id, r.chat_id, r.idempotency_key);
            return {ReplyClaim::kRepeat, previous["message_id"].c_str(),
                    previous["request_hash"].c_str() == r.request_hash};
          }
        }
        if (r.max_user_replies > 0) {
          tx.exec_prepared("chat_replies_user_lock", r.user_id);
          if (tx.exec_prepared1("chat_replies_user_running", r.user_id)["running"].as<int>() >=
              r.max_user_replies)
            return {ReplyClaim::kUserLimit, "", true};
        }
        if (tx.exec_prepared("chat_replies_begin", r.chat_id, r.message_id, r.user_id, r.model,
                             r.provider, r.worker)
                .empty())
          return {ReplyClaim::kBusy, "", true};  // the transaction rolls back: no key kept
        tx.commit();
        return {ReplyClaim::kClaimed, r.message_id, true};
      },
      /*idempotent=*/false);
}

void Store::forget_idempotency_key(const NewReply& r) {
  pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec_prepared("idempotency_forget", r.user_id, r.chat_id, r.idempotency_key, r.message_id);
  });
}

std::optional<Store::CheckpointAnswer> Store::checkpoint_reply(const std::string& chat_id,
                                                               const std::string& message_id,
                                                               const ReplyProgress& p) {
  return pool_.run(
      [&](pqxx::connection& c) -> std::optional<CheckpointAnswer> {
        pqxx::nontransaction tx(c);
        auto rows = tx.exec_prepared("chat_replies_checkpoint", chat_id, message_id, p.parts,
                                     p.part_count, p.message);
        if (rows.empty()) return std::nullopt;
        return CheckpointAnswer{rows[0]["cancel_requested"].as<bool>(),
                                rows[0]["readers"].as<int>()};
      },
      /*idempotent=*/false);
}

void Store::finish_reply(const std::string& chat_id, const std::string& message_id,
                         const ReplyProgress& p, const std::string& finish_reason,
                         const std::string& prompt_tokens, const std::string& completion_tokens) {
  pool_.run(
      [&](pqxx::connection& c) {
        pqxx::nontransaction tx(c);
        tx.exec_prepared("chat_replies_finish", chat_id, message_id, p.parts, p.part_count,
                         p.message, finish_reason, prompt_tokens, completion_tokens);
      },
      /*idempotent=*/false);
}

size_t Store::recover_replies() {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return static_cast<size_t>(tx.exec_prepared("chat_replies_recover").size());
  });
}

void Store::prune_replies() {
  pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec_prepared("chat_replies_prune");
    tx.exec_prepared("idempotency_prune");
  });
}

bool Store::interrupt_reply(const std::string& chat_id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return !tx.exec_prepared("chat_replies_interrupt", chat_id).empty();
  });
}

std::optional<Store::ReplyRead> Store::read_reply(const std::string& chat_id, size_t offset) {
  return pool_.run([&](pqxx::connection& c) -> std::optional<ReplyRead> {
    pqxx::nontransaction tx(c);
    auto rows = tx.exec_prepared("chat_replies_read", chat_id, static_cast<long long>(offset));
    if (rows.empty()) return std::nullopt;
    return ReplyRead{rows[0]["message_id"].c_str(), rows[0]["parts"].c_str(),
                     rows[0]["finished"].as<bool>()};
  });
}

bool Store::join_reply(const std::string& chat_id, const std::string& message_id, int max_readers) {
  return pool_.run(
      [&](pqxx::connection& c) {
        pqxx::nontransaction tx(c);
        return !tx.exec_prepared("chat_replies_reader_join", chat_id, message_id, max_readers)
                    .empty();
      },
      /*idempotent=*/false);
}

void Store::leave_reply(const std::string& chat_id, const std::string& message_id) {
  pool_.run(
      [&](pqxx::connection& c) {
        pqxx::nontransaction tx(c);
        tx.exec_prepared("chat_replies_reader_leave", chat_id, message_id);
      },
      /*idempotent=*/false);
}

Store::RecentMessages Store::append_message(const StoredMessage& m, int recent,
                                            uint64_t max_bytes) {
  return pool_.run(
      [&](pqxx::connection& c) {
        pqxx::nontransaction tx(c);
        auto rows = tx.exec_prepared(
            "chat_messages_append", m.chat_id, m.model, m.provider, m.content, m.finish_reason,
            m.prompt_tokens, m.completion_tokens, recent, static_cast<long long>(max_bytes));
        RecentMessages before;
        before.newest_first.reserve(rows.size());
        for (const auto& row : rows)
          if (!row["content"].is_null())
            before.newest_first.emplace_back(row["content"].c_str(), row["content"].size());
        auto fetched = rows[0]["fetched"].as<long long>();
        before.whole =
            fetched < recent && before.newest_first.size() == static_cast<size_t>(fetched);
        before.has_user_message = rows[0]["has_user"].as<bool>();
        return before;
      },
      /*idempotent=*/false);
}

void Store::set_chat_title(const std::string& chat_id, const std::string& title) {
  pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec_prepared("chats_set_title", chat_id, title);
  });
}

std::string Store::create_user(const std::string& username, const std::string& email, bool admin) {
  return pool_.run(
      [&](pqxx::connection& c) {
        pqxx::nontransaction tx(c);
        try {
          return std::string(tx.exec_prepared1("users_insert", username, email, admin)[0].c_str());
        } catch (const pqxx::unique_violation&) {
          throw AlreadyExists("user \"" + username + "\" already exists");
        }
      },
      /*idempotent=*/false);
}

std::vector<UserRecord> Store::list_users() {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::vector<UserRecord> users;
    for (const auto& row : tx.exec_prepared("users_list")) {
      users.push_back({row["id"].c_str(), row["username"].c_str(), row["email"].c_str(),
                       row["status"].c_str(), row["is_admin"].as<bool>(),
                       row["created_at"].c_str()});
    }
    return users;
  });
}

bool Store::set_user_status(const std::string& username, const std::string& status) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return !tx.exec_prepared("users_set_status", username, status).empty();
  });
}

std::optional<std::string> Store::create_api_key(const std::string& id, const std::string& hashed,
                                                 const std::string& username,
                                                 const std::string& name,
                                                 long long lifetime_seconds) {
  return pool_.run(
      [&](pqxx::connection& c) -> std::optional<std::string> {
        pqxx::nontransaction tx(c);
        auto rows =
            tx.exec_prepared("api_keys_insert", id, hashed, username, name, lifetime_seconds);
        if (rows.empty()) return std::nullopt;
        return std::string(rows[0][0].c_str());
      },
      /*idempotent=*/false);
}

std::vector<ApiKeyInfo> Store::list_api_keys(const std::string& username) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    std::vector<ApiKeyInfo> keys;
    for (const auto& row : tx.exec_prepared("api_keys_list", username)) {
      keys.push_back({row["id"].c_str(), row["name"].c_str(), row["created_at"].c_str(),
                      row["expires_at"].c_str(), row["last_used"].c_str()});
    }
    return keys;
  });
}

bool Store::delete_api_key(const std::string& id) {
  return pool_.run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx.exec_prepared("api_keys_delete", id).affected_rows() > 0;
  });
}

}  // namespace chatd::sql
