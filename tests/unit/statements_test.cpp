// The statements the build generates (sql_queries.hpp) against the catalog, the stores and the
// channel names; and how a parameter that may be absent is sent.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sql/catalog.hpp"
#include "sql/channels.hpp"
#include "sql/error_text.hpp"
#include "sql/statement.hpp"
#include "sql_queries.hpp"

namespace chatd::sql {
namespace {

TEST(Statements, EveryConstantIsACatalogStatementAndBack) {
  std::set<std::string> catalog;
  for (const auto& query : embedded_queries()) catalog.insert(query.name);
  std::set<std::string> constants;
  for (const auto& statement : all_statements) constants.insert(statement.name);
  EXPECT_EQ(constants, catalog);
  EXPECT_EQ(all_statements.size(), embedded_queries().size());
  EXPECT_STREQ(query::chats_list.name, "chats_list");
}

// A statement no store calls would be prepared on every connection and never run, nor tested.
TEST(Statements, EveryStatementIsCalledByAStore) {
  std::string stores;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::string(CHATD_SOURCE_DIR) + "/sql")) {
    if (entry.path().extension() != ".cpp") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    stores += text.str();
  }
  for (const auto& statement : all_statements)
    EXPECT_NE(stores.find(std::string("query::") + statement.name), std::string::npos)
        << statement.name << " is called nowhere in sql/";
}

// Channel names live in sql/channels.hpp only; a statement takes them as parameters.
TEST(Statements, NoStatementSpellsAChannelName) {
  for (const auto& query : embedded_queries()) {
    EXPECT_EQ(query.text.find(kCancelChannel), std::string::npos) << query.name;
    EXPECT_EQ(query.text.find(kReplyChannelPrefix), std::string::npos) << query.name;
  }
}

TEST(Statements, ReplyChannelIsThePrefixAndTheChatIdWithoutDashes) {
  EXPECT_EQ(reply_channel("0b9e0c9a-1f2e-4d3c-8b7a-6f5e4d3c2b1a"),
            std::string(kReplyChannelPrefix) + "0b9e0c9a1f2e4d3c8b7a6f5e4d3c2b1a");
}

TEST(StatementParameters, AnEmptyOptionalIsNullAndAFullOneItsValue) {
  using Traits = pqxx::string_traits<std::optional<long long>>;
  EXPECT_TRUE(Traits::is_null(std::nullopt));
  EXPECT_FALSE(Traits::is_null(0LL));
  EXPECT_EQ(pqxx::to_string(std::optional<long long>(-42)), "-42");
  EXPECT_EQ(pqxx::to_string(std::optional<std::string>("")), "");
  EXPECT_FALSE(pqxx::string_traits<std::optional<std::string>>::is_null(std::string()));
}

// PostgreSQL quotes the data it refuses ("Token ... is invalid", "CONTEXT: JSON data, line 1:
// ..."): a statement's error is logged by its SQLSTATE only.
TEST(ErrorText, AStatementErrorIsItsSqlstateOnly) {
  pqxx::data_exception refused(
      "ERROR:  unsupported Unicode escape sequence\nCONTEXT:  JSON data, line 1: secret reply",
      "EXECUTE chat_replies_checkpoint", "22P05");
  EXPECT_EQ(error_text(refused), "database error 22P05");
  EXPECT_EQ(error_text(std::runtime_error("no thread")), "no thread");
}

}  // namespace
}  // namespace chatd::sql
