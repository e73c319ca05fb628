#include "sql/error_text.hpp"

#include <pqxx/pqxx>

namespace chatd::sql {

std::string error_text(const std::exception& error) {
  if (const auto* failed = dynamic_cast<const pqxx::sql_error*>(&error))
    return "database error " + (failed->sqlstate().empty() ? "(no SQLSTATE)" : failed->sqlstate());
  return error.what();
}

}  // namespace chatd::sql
