// chatd tokens create|list|revoke
#include <iostream>

#include "base/token.hpp"
#include "sql/pool.hpp"
#include "sql/store/accounts.hpp"
#include "worker/commands.hpp"
#include "worker/config.hpp"
#include "worker/duration.hpp"

namespace chatd::commands {

namespace {

constexpr auto kMaxLifetime = std::chrono::hours(24 * 3650);

sql::Pool connect(const po::variables_map& values) {
  return sql::Pool(config::general(values).database_url, 1, std::chrono::seconds(10));
}

}  // namespace

void add_tokens_create_options(po::options_description& options) {
  options.add_options()("user", po::value<std::string>()->required(), "the token's user")(
      "lifetime", po::value<std::string>()->default_value("720h"),
      "how long the token is valid (e.g. 720h, 30d)")(
      "name", po::value<std::string>()->default_value(""), "a label to recognise it by");
}

int tokens_create(const po::variables_map& values) {
  const auto& lifetime_text = values["lifetime"].as<std::string>();
  auto lifetime = parse_duration(lifetime_text);
  if (!lifetime || *lifetime < std::chrono::seconds(1) || *lifetime > kMaxLifetime) {
    std::cerr << "chatd: lifetime: a duration from 1s to 3650d, got \"" << lifetime_text << "\"\n";
    return 2;
  }
  const auto& name = values["name"].as<std::string>();
  if (name.size() > 64) {
    std::cerr << "chatd: name: at most 64 characters\n";
    return 2;
  }
  const auto& user = values["user"].as<std::string>();
  auto token = base::generate_token();
  auto pool = connect(values);
  auto expires = sql::AccountStore(pool).create_api_key(
      token.id, base::hash_secret(token.secret), user, name,
      std::chrono::duration_cast<std::chrono::seconds>(*lifetime).count());
  if (!expires) {
    std::cerr << "chatd: no user \"" << user << "\"\n";
    return 1;
  }
  // stdout carries the token alone, for TOKEN=$(chatd tokens create ...).
  std::cout << token.id << "-" << token.secret << "\n";
  std::cerr << "Token " << token.id << " for " << user << ", valid until " << *expires
            << ". It is shown only this once.\n";
  return 0;
}

void add_tokens_list_options(po::options_description& options) {
  options.add_options()("user", po::value<std::string>()->required(), "whose tokens");
}

int tokens_list(const po::variables_map& values) {
  auto pool = connect(values);
  std::printf("%-10s  %-20s  %-27s  %-27s  %s\n", "ID", "NAME", "CREATED", "EXPIRES", "LAST USED");
  for (const auto& k : sql::AccountStore(pool).list_api_keys(values["user"].as<std::string>()))
    std::printf("%-10s  %-20s  %-27s  %-27s  %s\n", k.id.c_str(), k.name.c_str(),
                k.created_at.c_str(), k.expires_at.c_str(), k.last_used.c_str());
  return 0;
}

void add_token_id_argument(po::options_description& options,
                           po::positional_options_description& positional) {
  options.add_options()("id", po::value<std::string>()->required(),
                        "the token's id (its first 10 characters)");
  positional.add("id", 1);
}

int tokens_revoke(const po::variables_map& values) {
  auto pool = connect(values);
  const auto& id = values["id"].as<std::string>();
  if (!sql::AccountStore(pool).delete_api_key(id)) {
    std::cerr << "chatd: no token \"" << id << "\"\n";
    return 1;
  }
  std::cerr << "Token " << id << " revoked.\n";
  return 0;
}

}  // namespace chatd::commands
