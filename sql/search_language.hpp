// The text search configuration of the full-text index (API.md §8: `q` words): a property of
// the database, set from the search-language option after the migrations, by `chatd migrate`
// and at `chatd serve`'s start.
#pragma once

#include <string>

namespace pqxx {
class connection_base;
}

namespace chatd::sql {

// Makes `language` (a PostgreSQL text search configuration: simple, english, french, …) the
// one of every vector and query, and rebuilds the vectors of titles and messages with it, in one
// transaction, when it is not already. Returns whether it changed. Throws std::invalid_argument
// naming the option for a configuration PostgreSQL does not have.
bool set_search_language(pqxx::connection_base& conn, const std::string& language);

}  // namespace chatd::sql
