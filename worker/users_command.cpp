// chatd users create|list|suspend|activate|budget
#include <iostream>
#include <optional>
#include <regex>

#include "sql/pool.hpp"
#include "sql/store/accounts.hpp"
#include "sql/store/usage.hpp"
#include "worker/commands.hpp"
#include "worker/config.hpp"
#include "worker/price_config.hpp"

namespace chatd::commands {

namespace {

sql::Pool connect(const po::variables_map& values) {
  return sql::Pool(config::general(values).database_url, 1, std::chrono::seconds(10));
}

const std::string& username_of(const po::variables_map& values) {
  return values["username"].as<std::string>();
}

int set_status(const po::variables_map& values, const std::string& status) {
  auto pool = connect(values);
  if (!sql::AccountStore(pool).set_user_status(username_of(values), status)) {
    std::cerr << "chatd: no user \"" << username_of(values) << "\"\n";
    return 1;
  }
  std::cerr << "User " << username_of(values) << " is " << status << ".\n";
  return 0;
}

}  // namespace

void add_users_create_options(po::options_description& options) {
  options.add_options()("username", po::value<std::string>()->required(),
                        "login name: letters and digits, single dashes between them, 1-32")(
      "email", po::value<std::string>()->default_value(""), "e-mail address (optional)")(
      "admin", po::bool_switch(), "make the user a site admin (may read any chat)");
}

int users_create(const po::variables_map& values) {
  const auto& username = username_of(values);
  static const std::regex kUsername("^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$");
  if (username.size() > 32 || !std::regex_match(username, kUsername)) {
    std::cerr << "chatd: username: letters and digits with single dashes between them, at most "
                 "32 characters\n";
    return 2;
  }
  const auto& email = values["email"].as<std::string>();
  if (!email.empty() && (email.size() > 254 || email.find('@') == std::string::npos)) {
    std::cerr << "chatd: email: not an e-mail address\n";
    return 2;
  }
  auto pool = connect(values);
  try {
    std::cout << sql::AccountStore(pool).create_user(
                     username, email.empty() ? std::nullopt : std::optional(email),
                     values["admin"].as<bool>())
              << "\n";
  } catch (const sql::AlreadyExists& e) {
    std::cerr << "chatd: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int users_list(const po::variables_map& values) {
  auto pool = connect(values);
  std::printf("%-36s  %-20s  %-9s  %-5s  %-27s  %s\n", "ID", "USERNAME", "STATUS", "ADMIN",
              "CREATED", "EMAIL");
  for (const auto& u : sql::AccountStore(pool).list_users())
    std::printf("%-36s  %-20s  %-9s  %-5s  %-27s  %s\n", u.id.c_str(), u.username.c_str(),
                u.status.c_str(), u.is_admin ? "yes" : "no", u.created_at.c_str(), u.email.c_str());
  return 0;
}

void add_username_argument(po::options_description& options,
                           po::positional_options_description& positional) {
  options.add_options()("username", po::value<std::string>()->required(), "the user");
  positional.add("username", 1);
}

int users_suspend(const po::variables_map& values) { return set_status(values, "suspended"); }

int users_activate(const po::variables_map& values) { return set_status(values, "active"); }

void add_users_budget_options(po::options_description& options,
                              po::positional_options_description& positional) {
  add_username_argument(options, positional);
  options.add(config::serve_options());
  options.add_options()("set", po::value<std::string>(),
                        "'period=day|week|month;limit-usd=N', none or default");
  positional.add("set", 1);
}

int users_budget(const po::variables_map& values) {
  const auto& username = username_of(values);
  const std::string set = values.count("set") ? values["set"].as<std::string>() : "";
  std::optional<sql::Budget> default_budget, own;
  try {
    if (values.count("budget"))
      default_budget = config::parse_budget(values["budget"].as<std::string>());
    if (!set.empty() && set != "none" && set != "default")
      own = config::parse_budget(set, "budget of " + username);
  } catch (const config::ConfigError& e) {
    std::cerr << "chatd: " << e.what() << "\n";
    return 2;
  }
  auto pool = connect(values);
  sql::UsageStore ledger(pool);
  bool known = set.empty()        ? true
               : set == "default" ? ledger.clear_budget(username)
                                  : ledger.set_budget(username, own);
  auto budget = known ? ledger.budget_of(username, default_budget) : std::nullopt;
  if (!budget) {
    std::cerr << "chatd: no user \"" << username << "\"\n";
    return 1;
  }
  const char* whose = budget->own ? "their own" : "the default";
  if (!budget->state) {
    std::cout << username << " has no budget (" << whose << ").\n";
    return 0;
  }
  const auto& state = *budget->state;
  std::cout << username << ": " << llm::format_dollars(state.budget.limit_micros) << " per "
            << state.budget.period << " (" << whose << "), "
            << llm::format_dollars(state.spent_micros) << " spent, resets at " << state.resets_at
            << (state.reached() ? "; reached: their replies are refused" : "") << ".\n";
  return 0;
}

}  // namespace chatd::commands
