#include "sql/store.hpp"

#include "sql_queries.hpp"

namespace chatd::sql {

bool Store::ping() { return exec(query::health_ping).size() == 1; }

}  // namespace chatd::sql
