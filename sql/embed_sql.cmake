# Compiles the SQL files into the binary: every sql/queries/NAME.sql becomes the prepared
# statement NAME (or one planned per call, when it says so), every
# sql/migrations/NNNN_name.up.sql a migration. Editing a .sql file
# re-runs this at the next build.
#
# Writes two files into `output_dir`:
#   sql_catalog.cpp  the statements' and migrations' text (sql/catalog.hpp declares them);
#   sql_queries.hpp  one constant per statement, chatd::sql::query::NAME, so that a store
#                    calling a statement that does not exist fails to compile.
function(embed_sql output_dir)
  set(dir ${CMAKE_CURRENT_SOURCE_DIR}/sql)
  file(GLOB queries CONFIGURE_DEPENDS ${dir}/queries/*.sql)
  file(GLOB migrations CONFIGURE_DEPENDS ${dir}/migrations/*.up.sql)
  list(SORT queries)
  list(SORT migrations)
  set(body "// Generated from sql/ by sql/embed_sql.cmake. Do not edit.\n")
  string(APPEND body "#include \"sql/catalog.hpp\"\n\nnamespace chatd::sql {\n\n")
  string(APPEND body "const std::vector<EmbeddedSql>& embedded_queries() {\n")
  string(APPEND body "  static const std::vector<EmbeddedSql> all = {\n")
  set(constants "")
  set(names "")
  foreach(path IN LISTS queries)
    get_filename_component(name ${path} NAME_WE)
    if(NOT name MATCHES "^[a-z][a-z0-9_]*$")
      message(FATAL_ERROR "sql/queries/${name}.sql: a statement name is lower_snake_case")
    endif()
    file(READ ${path} text)
    string(APPEND body "      {\"${name}\", R\"chatd_sql(${text})chatd_sql\"},\n")
    # A statement whose filters are optional says "-- plan: per call": one cached plan would
    # fit one set of them, so it is planned for each call's values instead of prepared.
    if(text MATCHES "\n-- plan: per call")
      string(APPEND constants "inline constexpr Statement ${name}{\"${name}\", true};\n")
    else()
      string(APPEND constants "inline constexpr Statement ${name}{\"${name}\"};\n")
    endif()
    string(APPEND names "    query::${name},\n")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${path})
  endforeach()
  string(APPEND body "  };\n  return all;\n}\n\n")
  string(APPEND body "const std::vector<EmbeddedSql>& embedded_migrations() {\n")
  string(APPEND body "  static const std::vector<EmbeddedSql> all = {\n")
  foreach(path IN LISTS migrations)
    get_filename_component(name ${path} NAME)
    file(READ ${path} text)
    string(APPEND body "      {\"${name}\", R\"chatd_sql(${text})chatd_sql\"},\n")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${path})
  endforeach()
  string(APPEND body "  };\n  return all;\n}\n\n}  // namespace chatd::sql\n")

  set(header "// Generated from sql/queries/ by sql/embed_sql.cmake. Do not edit.\n")
  string(APPEND header "#pragma once\n\n#include <array>\n\n#include \"sql/statement.hpp\"\n\n")
  string(APPEND header "namespace chatd::sql {\n\nnamespace query {\n${constants}}  // namespace query\n\n")
  list(LENGTH queries count)
  string(APPEND header "inline constexpr std::array<Statement, ${count}> all_statements = {\n")
  string(APPEND header "${names}};\n\n}  // namespace chatd::sql\n")

  # Written through a copy so the output (and what depends on it) only changes with the SQL.
  file(WRITE ${output_dir}/sql_catalog.cpp.tmp "${body}")
  configure_file(${output_dir}/sql_catalog.cpp.tmp ${output_dir}/sql_catalog.cpp COPYONLY)
  file(WRITE ${output_dir}/sql_queries.hpp.tmp "${header}")
  configure_file(${output_dir}/sql_queries.hpp.tmp ${output_dir}/sql_queries.hpp COPYONLY)
endfunction()
