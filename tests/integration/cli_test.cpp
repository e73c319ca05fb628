// The command line: help, configuration checks, users, tokens, concurrent migrations.
#include <fstream>
#include <pqxx/pqxx>
#include <regex>
#include <thread>

#include "fixture.hpp"
#include "sql/catalog.hpp"

namespace chatd::test {
namespace {

class Cli : public StackTest {
 protected:
  CommandResult chatd(std::vector<std::string> args) {
    args.insert(args.begin(), CHATD_BINARY);
    return run_command(args);
  }
};

TEST_F(Cli, HelpDocumentsEveryCommandAndOption) {
  auto r = chatd({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* command :
       {"serve", "migrate", "config check", "users create", "users list", "users suspend",
        "users activate", "users budget", "tokens create", "tokens list", "tokens revoke", "usage"})
    EXPECT_NE(r.out.find(command), std::string::npos) << command;
  r = chatd({"serve", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* option : {"--listen", "--socket-mode", "--socket-group", "--workers",
                             "--threads", "--database-url", "--db-pool-size", "--max-requests",
                             "--max-body-size", "--shutdown-timeout", "--log-level", "--config"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
  EXPECT_NE(r.out.find("CHATD_"), std::string::npos);
  r = chatd({"bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command \"bogus\""), std::string::npos);
}

TEST_F(Cli, ConfigCheckMasksSecretsAndNamesTheBadKey) {
  std::string path = stack_->dir + "/check.conf";
  std::ofstream(path) << "threads = 12\ndatabase-url = postgresql://chatd:hunter2@db/chatd\n";
  auto r = chatd({"config", "check", "--config", path, "--workers", "3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("threads = 12\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("workers = 3\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("database-url = postgresql://chatd:****@db/chatd\n"), std::string::npos);
  EXPECT_EQ(r.out.find("hunter2"), std::string::npos);

  std::ofstream(path) << "threads = many\n";
  r = chatd({"config", "check", "--config", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("threads"), std::string::npos) << r.err;
  std::ofstream(path) << "thread = 4\n";
  r = chatd({"config", "check", "--config", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("thread"), std::string::npos) << r.err;
  r = chatd({"config", "check", "--config", stack_->dir + "/missing.conf"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("config"), std::string::npos) << r.err;
}

TEST_F(Cli, UsersAndTokens) {
  auto name = unique("cli");
  auto created =
      stack_->chatd->cli({"users", "create", "--username", name, "--email", name + "@example.com"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, stack_->user_id(name));
  auto again = stack_->chatd->cli({"users", "create", "--username", name});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos);
  EXPECT_EQ(stack_->chatd->cli({"users", "create", "--username", "bad name"}).exit_code, 2);
  auto no_email = unique("cli-no-email");
  ASSERT_EQ(stack_->chatd->cli({"users", "create", "--username", no_email}).exit_code, 0);
  EXPECT_EQ(stack_->sql("SELECT email FROM users WHERE username = '" + no_email + "'"),
            (std::vector<std::vector<std::string>>{{"NULL"}}));
  EXPECT_EQ(stack_->sql("SELECT email FROM users WHERE username = '" + name + "'"),
            (std::vector<std::vector<std::string>>{{name + "@example.com"}}));
  auto list = stack_->chatd->cli({"users", "list"});
  EXPECT_NE(list.out.find(name + "@example.com"), std::string::npos);

  auto token = stack_->chatd->cli(
      {"tokens", "create", "--user", name, "--name", "laptop", "--lifetime", "2h"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  ASSERT_TRUE(std::regex_match(token.out, std::regex("[A-Za-z0-9]{10}-[A-Za-z0-9]{22}")));
  auto lifetime = stack_->sql(
      "SELECT round(extract(epoch FROM expires_at - created_at)) FROM "
      "api_keys WHERE id = '" +
      token.out.substr(0, 10) + "'");
  EXPECT_EQ(lifetime.at(0).at(0), "7200");
  auto keys = stack_->chatd->cli({"tokens", "list", "--user", name});
  EXPECT_NE(keys.out.find(token.out.substr(0, 10)), std::string::npos);
  EXPECT_NE(keys.out.find("laptop"), std::string::npos);
  EXPECT_EQ(keys.out.find(token.out.substr(11)), std::string::npos) << "a secret was listed";
  EXPECT_EQ(stack_->chatd->cli({"tokens", "create", "--user", "nobody-here"}).exit_code, 1);
  EXPECT_EQ(
      stack_->chatd->cli({"tokens", "create", "--user", name, "--lifetime", "soon"}).exit_code, 2);
  EXPECT_EQ(stack_->chatd->cli({"tokens", "revoke", "zzzzzzzzzz"}).exit_code, 1);
  EXPECT_EQ(stack_->chatd->cli({"tokens", "revoke", token.out.substr(0, 10)}).exit_code, 0);
  EXPECT_EQ(stack_->chatd->cli({"users", "suspend", "nobody-here"}).exit_code, 1);
}

TEST_F(Cli, ModelsAndProviderConfiguration) {
  std::string openai =
      "type=openai;api-key=sk-secret-value;base-url=" + stack_->fake->url() + "/v1";
  auto r = chatd({"models", "--provider", openai});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("openai      fake-model\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("openai      fake-model-2\n"), std::string::npos) << r.out;

  // A model offered twice refuses to start, naming it.
  auto twice = chatd({"models", "--provider", openai + ";models=m1", "--provider",
                      "type=anthropic;api-key=k;base-url=" + stack_->fake->url() + ";models=m1"});
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.err.find("\"m1\" is configured twice"), std::string::npos) << twice.err;
  auto serve = chatd({"serve", "--listen", "unix:" + stack_->dir + "/never.sock", "--database-url",
                      stack_->postgres->url(), "--provider", openai + ";models=m1", "--provider",
                      openai + ";models=m1"});
  EXPECT_EQ(serve.exit_code, 2);
  EXPECT_NE(serve.err.find("configured twice"), std::string::npos) << serve.err;

  auto unknown = chatd({"models", "--provider", "type=azure;api-key=k"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown provider type \"azure\""), std::string::npos);

  // Keys never show; environment variables of Coder's kind are read.
  auto check = run_command(
      {"env", "CHATD_AI_PROVIDER_0_TYPE=anthropic", "CHATD_AI_PROVIDER_0_API_KEY=another-secret",
       "CHATD_AI_PROVIDER_0_MODELS=a,b", CHATD_BINARY, "config", "check", "--provider", openai});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ(check.out.find("secret"), std::string::npos) << check.out;
  EXPECT_NE(check.out.find("provider = type=anthropic;api-key=****;models=a,b"), std::string::npos)
      << check.out;
  auto gap =
      run_command({"env", "CHATD_AI_PROVIDER_1_TYPE=openai", CHATD_BINARY, "config", "check"});
  EXPECT_EQ(gap.exit_code, 2);
  EXPECT_NE(gap.err.find("provider 0 skipped"), std::string::npos) << gap.err;
}

TEST_F(Cli, ConcurrentMigrationsApplyOnce) {
  stack_->sql("CREATE DATABASE migrate_race");
  std::string url = "host=" + stack_->dir + "/pg dbname=migrate_race user=postgres";
  std::vector<CommandResult> results(4);
  std::vector<std::thread> runs;
  for (auto& result : results)
    runs.emplace_back([&] { result = chatd({"migrate", "--database-url", url}); });
  for (auto& r : runs) r.join();
  // Every migration was applied by exactly one of the four.
  const auto& migrations = sql::embedded_migrations();
  for (const auto& migration : migrations) {
    int applied = 0;
    for (const auto& r : results) {
      EXPECT_EQ(r.exit_code, 0) << r.err;
      applied += r.out.find("applied " + migration.name) != std::string::npos;
    }
    EXPECT_EQ(applied, 1) << migration.name;
  }
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM schema_migrations")[0][0].as<size_t>(),
            migrations.size());
}

// search-language: `chatd migrate` makes it the database's and rebuilds the index with it
// (english stems: "running dogs" is found by "run dog"); back to simple, it no longer is; an
// unknown configuration is refused by name and changes nothing.
TEST_F(Cli, SearchLanguageIsTheDatabasesAndRebuildsTheIndex) {
  stack_->sql("CREATE DATABASE search_language");
  std::string url = "host=" + stack_->dir + "/pg dbname=search_language user=postgres";
  ASSERT_EQ(chatd({"migrate", "--database-url", url}).exit_code, 0);
  pqxx::connection conn(url);
  {
    pqxx::nontransaction tx(conn);
    tx.exec("INSERT INTO users (username) VALUES ('searcher')");
    tx.exec("INSERT INTO chats (owner_id, title) SELECT id, 'Running dogs' FROM users");
  }
  auto found = [&](const std::string& words) {
    pqxx::nontransaction tx(conn);
    return tx
        .exec_params(
            "SELECT count(*) FROM chats WHERE search @@ "
            "plainto_tsquery(chatd_search_config(), $1)",
            words)[0][0]
        .as<int>();
  };
  EXPECT_EQ(found("run dog"), 0);
  auto english = chatd({"migrate", "--database-url", url, "--search-language", "english"});
  EXPECT_EQ(english.exit_code, 0) << english.err;
  EXPECT_NE(english.out.find("search language english, index rebuilt"), std::string::npos);
  EXPECT_EQ(found("run dog"), 1);
  auto again = chatd({"migrate", "--database-url", url, "--search-language", "english"});
  EXPECT_EQ(again.out.find("index rebuilt"), std::string::npos) << "nothing to rebuild";
  auto unknown = chatd({"migrate", "--database-url", url, "--search-language", "klingon"});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("search-language: PostgreSQL has no text search configuration "
                             "\"klingon\""),
            std::string::npos)
      << unknown.err;
  EXPECT_EQ(found("run dog"), 1);
  EXPECT_NE(chatd({"migrate", "--database-url", url, "--search-language", "x;drop"}).exit_code, 0);
  ASSERT_EQ(chatd({"migrate", "--database-url", url}).exit_code, 0);
  EXPECT_EQ(found("run dog"), 0);
  EXPECT_EQ(found("running dogs"), 1);
}

}  // namespace
}  // namespace chatd::test
