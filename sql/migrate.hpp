// Schema migrations: sql/migrations/NNNN_name.up.sql applied in order, each once.
#pragma once

#include <string>
#include <vector>

#include "sql/catalog.hpp"

namespace pqxx {
class connection_base;
}

namespace chatd::sql {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// Orders migration files by version; throws std::invalid_argument naming the file for a
// name that is not NNNN_name.up.sql, a version that repeats, or a gap in the sequence.
std::vector<Migration> order_migrations(const std::vector<EmbeddedSql>& files);

struct MigrateResult {
  std::vector<std::string> applied;  // names, in order
  int current_version = 0;
  int unknown_newer = 0;  // versions in the database this binary does not know
};

// Applies the pending migrations under a PostgreSQL advisory lock, so that several hosts may
// start at once: one applies, the others wait and find nothing left to do.
MigrateResult migrate(pqxx::connection_base& conn, const std::vector<Migration>& migrations);

}  // namespace chatd::sql
