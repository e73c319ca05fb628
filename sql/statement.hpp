// How the stores run the prepared statements of sql/queries/: by a generated constant
// (sql_queries.hpp: chatd::sql::query::NAME for NAME.sql), with typed parameters. A value that
// may be absent is a std::optional: libpqxx sends an empty one as SQL NULL (its string_traits
// for optional-like types, pqxx/internal/type_utils.hxx), so no statement decodes '' as NULL.
// (Reading a column as std::optional does not compile with Debian's libpqxx 6.4: test
// is_null() on the field instead.)
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "sql/pool.hpp"

namespace chatd::sql {

// A statement prepared on every connection (sql/catalog.hpp: prepare_all), or, `per_call`,
// sent with its text and planned for each call's values (its .sql file says "-- plan: per
// call": a statement of optional filters, which a cached generic plan serves badly).
struct Statement {
  const char* name;
  bool per_call = false;
};

// The text of a per-call statement (sql/catalog.cpp).
const std::string& statement_text(Statement statement);

// The statements this thread has sent through the stores, each one round trip (a transaction's
// BEGIN and COMMIT included): the request log's `db_statements` is its growth over a request.
inline thread_local uint64_t statements_sent = 0;

// A statement wrote a row that refers to one deleted meanwhile (a foreign key): a chat deleted
// while a request was using it. The router answers it as the chat not found.
class ReferenceGone : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Marks a call whose statement must not run twice (it inserts, or moves a counter): when the
// connection breaks, it may have run already, so the caller gets DatabaseUnavailable instead
// of a retry on a fresh connection.
struct NoRetry {};
inline constexpr NoRetry kNoRetry;

// A PostgreSQL array literal of UUIDs ("{a,b}") for a `$n::uuid[]` parameter: the ids must be
// canonical UUIDs (base::parse_uuid), which need no quoting.
inline std::string uuid_array(const std::vector<std::string>& ids) {
  std::string out = "{";
  for (const auto& id : ids) out += (out.size() > 1 ? "," : "") + id;
  return out + "}";
}

// What every store shares: one statement per call on a connection borrowed from the pool
// (outside a transaction), or on the caller's transaction.
class Executor {
 public:
  explicit Executor(Pool& pool) : pool_(pool) {}

 protected:
  // Retried once on a fresh connection if the connection broke: for statements that may run
  // twice.
  template <class... Args>
  pqxx::result exec(Statement statement, const Args&... args) {
    return run(/*idempotent=*/true, [&](auto& tx) { return exec(tx, statement, args...); });
  }
  template <class... Args>
  pqxx::result exec(NoRetry, Statement statement, const Args&... args) {
    return run(/*idempotent=*/false, [&](auto& tx) { return exec(tx, statement, args...); });
  }
  // Exactly one row back, or pqxx::unexpected_rows.
  template <class... Args>
  pqxx::row exec1(Statement statement, const Args&... args) {
    return run(/*idempotent=*/true, [&](auto& tx) { return exec1(tx, statement, args...); });
  }
  template <class... Args>
  pqxx::row exec1(NoRetry, Statement statement, const Args&... args) {
    return run(/*idempotent=*/false, [&](auto& tx) { return exec1(tx, statement, args...); });
  }

  // On the caller's transaction (see `transaction`).
  template <class... Args>
  static pqxx::result exec(pqxx::transaction_base& tx, Statement statement, const Args&... args) {
    ++statements_sent;
    if (statement.per_call) return tx.exec_params(statement_text(statement), args...);
    return tx.exec_prepared(statement.name, args...);
  }
  template <class... Args>
  static pqxx::row exec1(pqxx::transaction_base& tx, Statement statement, const Args&... args) {
    ++statements_sent;
    if (statement.per_call) return tx.exec_params1(statement_text(statement), args...);
    return tx.exec_prepared1(statement.name, args...);
  }

  // Several statements that stand or fall together: fn(pqxx::work&) commits, or its work is
  // rolled back. Never retried: the commit may have happened when the connection broke.
  template <class Fn>
  auto transaction(NoRetry, Fn&& fn) {
    return pool_.run(
        [&](pqxx::connection& conn) {
          statements_sent += 2;  // BEGIN and COMMIT
          pqxx::work tx(conn);
          return fn(tx);
        },
        /*idempotent=*/false);
  }

 private:
  // fn(pqxx::nontransaction&): one statement needs no transaction of its own.
  template <class Fn>
  auto run(bool idempotent, Fn&& fn) {
    return pool_.run(
        [&](pqxx::connection& conn) {
          pqxx::nontransaction tx(conn);
          try {
            return fn(tx);
          } catch (const pqxx::foreign_key_violation& e) {
            throw ReferenceGone(e.what());
          }
        },
        idempotent);
  }

  Pool& pool_;
};

}  // namespace chatd::sql
