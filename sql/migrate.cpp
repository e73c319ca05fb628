#include "sql/migrate.hpp"

#include <algorithm>
#include <pqxx/pqxx>
#include <regex>
#include <set>
#include <stdexcept>

namespace chatd::sql {

std::vector<Migration> order_migrations(const std::vector<EmbeddedSql>& files) {
  static const std::regex kName(R"(^([0-9]{4})_([a-z0-9_]+)\.up\.sql$)");
  std::vector<Migration> out;
  for (const auto& file : files) {
    std::smatch m;
    if (!std::regex_match(file.name, m, kName))
      throw std::invalid_argument("migration file name must be NNNN_name.up.sql: " + file.name);
    out.push_back({std::stoi(m[1].str()), file.name, file.text});
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0 && out[i].version == out[i - 1].version)
      throw std::invalid_argument("two migrations share version " + std::to_string(out[i].version) +
                                  ": " + out[i - 1].name + " and " + out[i].name);
    if (out[i].version != static_cast<int>(i) + 1)
      throw std::invalid_argument("migration versions must start at 1 and have no gaps: " +
                                  out[i].name);
  }
  return out;
}

namespace {

// Arbitrary, fixed: the lock every chatd instance takes to migrate.
constexpr long long kMigrationLockKey = 0x63686174645f6d69;  // "chatd_mi"

// Holds a session-level advisory lock for its lifetime.
class AdvisoryLock {
 public:
  explicit AdvisoryLock(pqxx::connection_base& conn) : conn_(conn) { run("pg_advisory_lock"); }
  ~AdvisoryLock() {
    try {
      run("pg_advisory_unlock");
    } catch (...) {
      // A broken connection released the lock with the session.
    }
  }
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

 private:
  void run(const char* function) {
    pqxx::nontransaction tx(conn_);
    tx.exec(std::string("SELECT ") + function + "(" + std::to_string(kMigrationLockKey) + ")");
  }
  pqxx::connection_base& conn_;
};

}  // namespace

MigrateResult migrate(pqxx::connection_base& conn, const std::vector<Migration>& migrations) {
  MigrateResult result;
  AdvisoryLock lock(conn);
  {
    pqxx::nontransaction setup(conn);
    setup.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    std::set<int> known;
    for (const auto& m : migrations) known.insert(m.version);
    for (const auto& row : setup.exec("SELECT version FROM schema_migrations")) {
      int version = row[0].as<int>();
      result.current_version = std::max(result.current_version, version);
      if (!known.count(version)) ++result.unknown_newer;
    }
  }
  for (const auto& m : migrations) {
    pqxx::work tx(conn);
    if (!tx.exec_params("SELECT 1 FROM schema_migrations WHERE version = $1", m.version).empty())
      continue;
    tx.exec(m.sql);
    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                   m.name);
    tx.commit();
    result.applied.push_back(m.name);
    result.current_version = std::max(result.current_version, m.version);
  }
  return result;
}

}  // namespace chatd::sql
