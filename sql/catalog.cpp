#include "sql/catalog.hpp"

#include <map>
#include <pqxx/pqxx>

#include "sql/statement.hpp"

namespace chatd::sql {

void prepare_all(pqxx::connection_base& conn) {
  for (const auto& query : embedded_queries()) conn.prepare(query.name, query.text);
}

const std::string& statement_text(Statement statement) {
  static const auto by_name = [] {
    std::map<std::string, const std::string*, std::less<>> texts;
    for (const auto& query : embedded_queries()) texts.emplace(query.name, &query.text);
    return texts;
  }();
  return *by_name.at(statement.name);
}

}  // namespace chatd::sql
