#include "sql/search_language.hpp"

#include <pqxx/pqxx>
#include <stdexcept>

namespace chatd::sql {

bool set_search_language(pqxx::connection_base& conn, const std::string& language) {
  pqxx::work tx(conn);
  // One instance at a time; the others then find it set.
  tx.exec("SELECT pg_advisory_xact_lock(hashtextextended('chatd_search_language', 0))");
  auto found = tx.exec_params(
      "SELECT c.oid::regconfig::text AS name, c.oid::regconfig = chatd_search_config() AS current"
      "  FROM pg_ts_config c WHERE c.cfgname = $1",
      language);
  if (found.empty())
    throw std::invalid_argument("search-language: PostgreSQL has no text search configuration \"" +
                                language + "\" (psql's \\dF lists them)");
  if (found[0]["current"].as<bool>()) return false;
  // A name PostgreSQL gave, quoted by PostgreSQL (format's %L): nothing of the option reaches
  // the DDL as SQL.
  tx.exec(tx.exec_params1("SELECT format('CREATE OR REPLACE FUNCTION chatd_search_config()"
                          " RETURNS regconfig LANGUAGE sql STABLE PARALLEL SAFE"
                          " RETURN %L::regconfig', $1::text)",
                          found[0]["name"].as<std::string>())[0]
              .as<std::string>());
  tx.exec("UPDATE chats SET search = to_tsvector(chatd_search_config(), title)");
  tx.exec(
      "UPDATE chat_messages"
      "   SET search = to_tsvector(chatd_search_config(), chatd_message_text(content))");
  tx.commit();
  return true;
}

}  // namespace chatd::sql
