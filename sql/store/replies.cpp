#include "sql/store/replies.hpp"

#include <nlohmann/json.hpp>

#include "sql/channels.hpp"
#include "sql/error_text.hpp"
#include "sql_queries.hpp"

namespace chatd::sql {

ReplyClaim ReplyStore::begin(const NewReply& r) {
  static const std::map<std::string, ReplyClaim::Outcome, std::less<>> kOutcomes = {
      {"claimed", ReplyClaim::kClaimed},
      {"repeat", ReplyClaim::kRepeat},
      {"user_limit", ReplyClaim::kUserLimit},
      {"budget", ReplyClaim::kBudgetReached},
      {"busy", ReplyClaim::kBusy}};
  auto row = exec1(kNoRetry, query::chat_replies_claim, r.chat_id, r.message_id, r.user_id, r.model,
                   r.provider, r.worker, r.seconds_since_request, r.idempotency_key, r.request_hash,
                   r.max_user_replies, period_of(r.budget), limit_of(r.budget));
  return {kOutcomes.at(row["outcome"].c_str()), row["first_message"].c_str(),
          row["same_request"].as<bool>(), row["cancelled"].as<bool>(), budget_state(row)};
}

namespace {

// The statement's $1.
std::string progress_json(const std::vector<ReplyCheckpoint>& batch) {
  auto rows = nlohmann::json::array();
  auto value = [](const std::optional<long long>& v) -> nlohmann::json {
    return v ? nlohmann::json(*v) : nlohmann::json();
  };
  for (const auto& c : batch) {
    nlohmann::json call;  // null: none
    if (const auto& open = c.progress.call)
      call = {{"n", open->number},
              {"input", value(open->input_tokens)},
              {"output", value(open->output_tokens)},
              {"cache_read", value(open->cache_read_tokens)},
              {"cache_write", value(open->cache_write_tokens)},
              {"reasoning", value(open->reasoning_tokens)},
              {"cost", value(open->cost_micros)}};
    rows.push_back({{"chat_id", c.chat_id},
                    {"message_id", c.message_id},
                    {"at", c.progress.at},
                    {"parts", c.progress.parts},
                    {"call", std::move(call)}});
  }
  return rows.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::optional<CheckpointAnswer> ReplyStore::checkpoint(const std::string& chat_id,
                                                       const std::string& message_id,
                                                       const ReplyProgress& p) {
  auto rows = exec(kNoRetry, query::chat_replies_checkpoint,
                   progress_json({{chat_id, message_id, p}}), std::string(kReplyChannelPrefix));
  if (rows.empty()) return std::nullopt;
  return CheckpointAnswer{rows[0]["cancel_requested"].as<bool>(), rows[0]["readers"].as<int>()};
}

ReplyStore::BatchAnswer ReplyStore::checkpoint(const std::vector<ReplyCheckpoint>& batch) {
  BatchAnswer answer;
  if (batch.empty()) return answer;
  try {
    for (const auto& row : exec(kNoRetry, query::chat_replies_checkpoint, progress_json(batch),
                                std::string(kReplyChannelPrefix)))
      answer.running[row["chat_id"].c_str()] = {row["cancel_requested"].as<bool>(),
                                                row["readers"].as<int>()};
  } catch (const DatabaseUnavailable&) {
    throw;
  } catch (const std::exception&) {
    for (const auto& c : batch) {
      try {
        if (auto one = checkpoint(c.chat_id, c.message_id, c.progress))
          answer.running[c.chat_id] = *one;
      } catch (const DatabaseUnavailable&) {
        throw;
      } catch (const std::exception& e) {
        answer.refused[c.chat_id] = error_text(e);
      }
    }
  }
  return answer;
}

bool ReplyStore::finish(const std::string& chat_id, const std::string& message_id,
                        const ReplyProgress& p, const std::optional<std::string>& message,
                        const ReplyEnd& end, std::optional<long long> prompt_tokens,
                        std::optional<long long> completion_tokens) {
  return !exec(kNoRetry, query::chat_replies_finish, chat_id, message_id,
               static_cast<long long>(p.at), p.parts, message, end.finish_reason, prompt_tokens,
               completion_tokens, reply_channel(chat_id), end.interrupted)
              .empty();
}

void ReplyStore::heartbeat(const std::vector<std::string>& chat_ids) {
  std::string ids = "{";
  for (const auto& id : chat_ids) ids += (ids.size() > 1 ? "," : "") + id;
  exec(query::chat_replies_heartbeat, ids + "}");
}

size_t ReplyStore::recover(const Rebuild& rebuild) {
  return transaction(kNoRetry, [&](pqxx::work& tx) {
    auto dead = exec(tx, query::chat_replies_dead);
    for (const auto& row : dead) {
      std::string chat_id = row["chat_id"].c_str();
      ReplyRead reply{row["message_id"].c_str(), row["parts"].c_str(), false,
                      row["started_at"].c_str()};
      auto finish = [&](const std::optional<std::string>& message) {
        exec(tx, query::chat_replies_finish, chat_id, reply.message_id, 0LL, std::string(), message,
             std::string("error"), std::optional<long long>(), std::optional<long long>(),
             reply_channel(chat_id), true);
      };
      // A savepoint per reply: a message the database refuses is rolled back alone, and the
      // chat is freed all the same, without it.
      tx.exec0("SAVEPOINT recover");
      try {
        exec(tx, query::usage_records_recover, chat_id);
        finish(rebuild(reply));
      } catch (const pqxx::broken_connection&) {
        throw;
      } catch (const pqxx::sql_error&) {
        tx.exec0("ROLLBACK TO SAVEPOINT recover");
        finish(std::nullopt);
      }
    }
    tx.commit();
    return dead.size();
  });
}

void ReplyStore::prune() { exec(query::chat_replies_prune); }

bool ReplyStore::interrupt(const std::string& chat_id) {
  return !exec(query::chat_replies_interrupt, chat_id, kCancelChannel).empty();
}

std::optional<ReplyRead> ReplyStore::read(const std::string& chat_id, size_t offset) {
  auto rows = exec(query::chat_replies_read, chat_id, static_cast<long long>(offset));
  if (rows.empty()) return std::nullopt;
  return ReplyRead{rows[0]["message_id"].c_str(), rows[0]["parts"].c_str(),
                   rows[0]["finished"].as<bool>(), rows[0]["started_at"].c_str()};
}

bool ReplyStore::join(const std::string& chat_id, const std::string& message_id, int max_readers) {
  return !exec(kNoRetry, query::chat_replies_reader_join, chat_id, message_id, max_readers).empty();
}

void ReplyStore::leave(const std::string& chat_id, const std::string& message_id) {
  exec(kNoRetry, query::chat_replies_reader_leave, chat_id, message_id);
}

}  // namespace chatd::sql
