#include "sql/store/usage.hpp"

#include "sql_queries.hpp"

namespace chatd::sql {

std::optional<std::string> period_of(const std::optional<Budget>& budget) {
  if (!budget) return std::nullopt;
  return budget->period;
}

std::optional<long long> limit_of(const std::optional<Budget>& budget) {
  if (!budget) return std::nullopt;
  return budget->limit_micros;
}

std::optional<BudgetState> budget_state(const pqxx::row& row) {
  if (row["budget_period"].is_null()) return std::nullopt;
  return BudgetState{{row["budget_period"].c_str(), row["budget_limit_micros"].as<long long>()},
                     row["budget_spent_micros"].as<long long>(),
                     row["budget_resets_at"].c_str()};
}

std::optional<BudgetState> UsageStore::record(const ModelCallRecord& c,
                                              const std::optional<Budget>& default_budget) {
  auto row = exec1(kNoRetry, query::usage_records_insert, c.user_id, c.chat_id, c.message_id,
                   c.kind, c.model, c.provider, c.input_tokens, c.output_tokens,
                   c.cache_read_tokens, c.cache_write_tokens, c.reasoning_tokens, c.cost_micros,
                   period_of(default_budget), limit_of(default_budget), c.call_number);
  return budget_state(row);
}

bool UsageStore::set_budget(const std::string& username, const std::optional<Budget>& budget) {
  return !exec(query::user_budgets_set, username, period_of(budget), limit_of(budget)).empty();
}

bool UsageStore::clear_budget(const std::string& username) {
  return !exec(query::user_budgets_clear, username).empty();
}

std::optional<UsageStore::UserBudget> UsageStore::budget_of(
    const std::string& username, const std::optional<Budget>& default_budget) {
  auto rows =
      exec(query::user_budgets_get, username, period_of(default_budget), limit_of(default_budget));
  if (rows.empty()) return std::nullopt;
  return UserBudget{rows[0]["own"].as<bool>(), budget_state(rows[0])};
}

namespace {

UsageFigures figures_of(const pqxx::row& row) {
  return {row["calls"].as<long long>(),
          row["total_cost_micros"].as<long long>(),
          row["input_tokens"].as<long long>(),
          row["output_tokens"].as<long long>(),
          row["cache_read_tokens"].as<long long>(),
          row["cache_write_tokens"].as<long long>(),
          row["reasoning_tokens"].as<long long>()};
}

std::optional<std::string> text_or_none(const pqxx::field& field) {
  if (field.is_null()) return std::nullopt;
  return field.c_str();
}

}  // namespace

std::optional<UsageSummary> UsageStore::summary(const std::string& user_id,
                                                const std::optional<std::string>& start,
                                                const std::optional<std::string>& end,
                                                size_t max_chats,
                                                const std::optional<Budget>& default_budget) {
  auto rows = exec(query::usage_summary, user_id, start, end, period_of(default_budget),
                   limit_of(default_budget));
  if (rows.empty() || !rows[0]["known"].as<bool>()) return std::nullopt;
  UsageSummary summary{rows[0]["start_date"].c_str(), rows[0]["end_date"].c_str(), {}, {}, {},
                       budget_state(rows[0])};
  for (const auto& row : rows) {
    if (row["per_model"].is_null()) continue;  // no call at all: no group
    if (row["per_model"].as<bool>()) {
      summary.by_model.push_back({row["model"].c_str(), row["provider"].c_str(), figures_of(row)});
    } else if (row["per_chat"].as<bool>()) {
      if (summary.by_chat.size() < max_chats)
        summary.by_chat.push_back(
            {text_or_none(row["chat_id"]), text_or_none(row["title"]), figures_of(row)});
    } else {
      summary.total = figures_of(row);
    }
  }
  return summary;
}

UsageByUser UsageStore::by_user(const std::optional<std::string>& start,
                                const std::optional<std::string>& end, std::optional<int> limit,
                                const std::optional<std::string>& after) {
  auto rows = exec(query::usage_users, start, end, limit, after);
  UsageByUser page{rows[0]["start_date"].c_str(),
                   rows[0]["end_date"].c_str(),
                   rows[0]["cursor_found"].as<bool>(),
                   {}};
  for (const auto& row : rows)
    if (!row["user_id"].is_null())
      page.users.push_back({row["user_id"].c_str(), row["username"].c_str(), figures_of(row)});
  return page;
}

}  // namespace chatd::sql
