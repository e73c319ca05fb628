#include "sql/catalog.hpp"

#include <pqxx/pqxx>

namespace chatd::sql {

void prepare_all(pqxx::connection_base& conn) {
  for (const auto& query : embedded_queries()) conn.prepare(query.name, query.text);
}

}  // namespace chatd::sql
