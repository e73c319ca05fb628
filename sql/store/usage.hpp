// The usage ledger (API.md §9): what each model call used and cost, and the budgets it holds
// users to.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sql/budget.hpp"
#include "sql/statement.hpp"

namespace chatd::sql {

struct ModelCallRecord {
  std::string user_id;
  std::string chat_id;
  std::string message_id;
  std::string kind;  // "step" or "title"
  std::string model;
  std::string provider;
  // Not reported: none. See migration 0014 for what each counts.
  std::optional<long long> input_tokens;
  std::optional<long long> output_tokens;
  std::optional<long long> cache_read_tokens;
  std::optional<long long> cache_write_tokens;
  std::optional<long long> reasoning_tokens;
  std::optional<long long> cost_micros;  // none: the model has no price
  std::optional<int> call_number;        // a step's: its number among the reply's calls
};

// The budget_* columns of a row; none when they are NULL (the user has no budget).
std::optional<BudgetState> budget_state(const pqxx::row& row);
// A budget as statement parameters (NULL: none).
std::optional<std::string> period_of(const std::optional<Budget>& budget);
std::optional<long long> limit_of(const std::optional<Budget>& budget);

// Sums of ledger rows.
struct UsageFigures {
  long long calls = 0;
  long long total_cost_micros = 0;  // of the calls that have a cost
  long long input_tokens = 0;
  long long output_tokens = 0;
  long long cache_read_tokens = 0;
  long long cache_write_tokens = 0;
  long long reasoning_tokens = 0;
};

// A user's calls over a time range (usage_summary.sql), the dearest first.
struct UsageSummary {
  std::string start_date;  // RFC 3339, as the API writes times
  std::string end_date;
  UsageFigures total;
  struct Model {
    std::string model;
    std::string provider;
    UsageFigures figures;
  };
  std::vector<Model> by_model;
  struct Chat {
    std::optional<std::string> chat_id;  // none: chats deleted since
    std::optional<std::string> title;
    UsageFigures figures;
  };
  std::vector<Chat> by_chat;
  std::optional<BudgetState> budget;  // the user's now; none: no budget
};

// Every user's calls over a time range (usage_users.sql), the dearest first.
struct UsageByUser {
  std::string start_date;
  std::string end_date;
  bool cursor_found = true;
  struct User {
    std::string user_id;
    std::string username;
    UsageFigures figures;
  };
  std::vector<User> users;
};

class UsageStore : Executor {
 public:
  using Executor::Executor;

  // One statement per call. Answers the user's budget with this call counted (their own, else
  // `default_budget`); none when they have none.
  std::optional<BudgetState> record(const ModelCallRecord& call,
                                    const std::optional<Budget>& default_budget);
  // The user's own budget (`chatd users budget`): `budget` none means no budget at all for
  // them. False when there is no such user.
  bool set_budget(const std::string& username, const std::optional<Budget>& budget);
  // The user goes back to the default budget. False when there is no such user.
  bool clear_budget(const std::string& username);
  // The user's budget now (their own, else `default_budget`), with `own` saying which; none
  // when there is no such user.
  struct UserBudget {
    bool own = false;
    std::optional<BudgetState> state;  // none: no budget
  };
  std::optional<UserBudget> budget_of(const std::string& username,
                                      const std::optional<Budget>& default_budget);
  // The user's calls from `start` to `end` (RFC 3339; none: the current calendar month, UTC),
  // with at most `max_chats` chats, and their budget (their own, else `default_budget`); none
  // when there is no such user.
  std::optional<UsageSummary> summary(const std::string& user_id,
                                      const std::optional<std::string>& start,
                                      const std::optional<std::string>& end, size_t max_chats,
                                      const std::optional<Budget>& default_budget);
  // Every user's calls from `start` to `end` (as summary()), at most `limit` users (none: all)
  // after user `after` (none: from the first) in that order.
  UsageByUser by_user(const std::optional<std::string>& start,
                      const std::optional<std::string>& end, std::optional<int> limit,
                      const std::optional<std::string>& after);
};

}  // namespace chatd::sql
