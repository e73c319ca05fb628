// Ordering of the schema migrations compiled into the binary.
#include "sql/migrate.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace chatd::sql {
namespace {

// The message order_migrations throws for these files, or "" when it accepts them.
std::string refusal(const std::vector<EmbeddedSql>& files) {
  try {
    order_migrations(files);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(OrderMigrations, SortsByVersionAndKeepsNamesAndText) {
  auto ordered = order_migrations(
      {{"0003_c.up.sql", "C;"}, {"0001_init.up.sql", "A;"}, {"0002_b_2.up.sql", "B;"}});
  ASSERT_EQ(ordered.size(), 3u);
  EXPECT_EQ(ordered[0].version, 1);
  EXPECT_EQ(ordered[0].name, "0001_init.up.sql");
  EXPECT_EQ(ordered[0].sql, "A;");
  EXPECT_EQ(ordered[1].version, 2);
  EXPECT_EQ(ordered[1].name, "0002_b_2.up.sql");
  EXPECT_EQ(ordered[1].sql, "B;");
  EXPECT_EQ(ordered[2].version, 3);
  EXPECT_EQ(ordered[2].name, "0003_c.up.sql");
  EXPECT_EQ(ordered[2].sql, "C;");
}

TEST(OrderMigrations, VersionsAreDecimalNotOctal) {
  std::vector<EmbeddedSql> files;
  for (int v = 1; v <= 12; ++v) {
    char name[32];
    std::snprintf(name, sizeof name, "%04d_m%d.up.sql", v, v);
    files.insert(files.begin(), {name, std::to_string(v)});
  }
  auto ordered = order_migrations(files);
  ASSERT_EQ(ordered.size(), 12u);
  for (int v = 1; v <= 12; ++v) {
    EXPECT_EQ(ordered[v - 1].version, v);
    EXPECT_EQ(ordered[v - 1].sql, std::to_string(v));
  }
}

TEST(OrderMigrations, NoFilesIsNoMigrations) { EXPECT_TRUE(order_migrations({}).empty()); }

TEST(OrderMigrations, DuplicateVersionNamesBothFiles) {
  auto message = refusal({{"0001_a.up.sql", ""}, {"0002_x.up.sql", ""}, {"0001_b.up.sql", ""}});
  EXPECT_EQ(message.rfind("two migrations share version 1: ", 0), 0u) << message;
  EXPECT_NE(message.find("0001_a.up.sql"), std::string::npos) << message;
  EXPECT_NE(message.find("0001_b.up.sql"), std::string::npos) << message;
}

TEST(OrderMigrations, GapNamesTheFileAfterIt) {
  EXPECT_EQ(refusal({{"0001_a.up.sql", ""}, {"0003_c.up.sql", ""}}),
            "migration versions must start at 1 and have no gaps: 0003_c.up.sql");
}

TEST(OrderMigrations, MustStartAtOne) {
  EXPECT_EQ(refusal({{"0002_b.up.sql", ""}, {"0003_c.up.sql", ""}}),
            "migration versions must start at 1 and have no gaps: 0002_b.up.sql");
  EXPECT_EQ(refusal({{"0000_zero.up.sql", ""}, {"0001_a.up.sql", ""}}),
            "migration versions must start at 1 and have no gaps: 0000_zero.up.sql");
}

TEST(OrderMigrations, BadFileNames) {
  for (const char* name :
       {"1_init.up.sql", "001_init.up.sql", "00001_init.up.sql", "0001_init.sql",
        "0001_init.down.sql", "0001_Init.up.sql", "0001-init.up.sql", "0001_.up.sql",
        "0001_init.up.sql.bak", "init.up.sql", "0001_in it.up.sql", "", "abcd_init.up.sql"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(refusal({{"0001_ok.up.sql", ""}, {name, ""}}),
              std::string("migration file name must be NNNN_name.up.sql: ") + name);
  }
}

TEST(EmbeddedMigrations, OrderWithoutErrorFromVersionOne) {
  const auto& files = embedded_migrations();
  ASSERT_FALSE(files.empty());
  std::vector<Migration> ordered;
  ASSERT_NO_THROW(ordered = order_migrations(files));
  ASSERT_EQ(ordered.size(), files.size());
  static const std::regex kName(R"(^[0-9]{4}_[a-z0-9_]+\.up\.sql$)");
  for (size_t i = 0; i < ordered.size(); ++i) {
    SCOPED_TRACE(ordered[i].name);
    EXPECT_EQ(ordered[i].version, static_cast<int>(i) + 1);
    EXPECT_TRUE(std::regex_match(ordered[i].name, kName));
    EXPECT_FALSE(ordered[i].sql.empty());
  }
  EXPECT_EQ(ordered.front().name, "0001_init.up.sql");
  EXPECT_NE(ordered.front().sql.find("CREATE TABLE users"), std::string::npos);
}

}  // namespace
}  // namespace chatd::sql
