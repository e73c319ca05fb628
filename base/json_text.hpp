// Compact JSON text that never throws on bad UTF-8: model and tool output may hold invalid
// sequences, and they are written (to the wire, the database, the log) with U+FFFD instead.
// And U+0000, which such output may hold too and PostgreSQL cannot store: found and replaced.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace chatd::base {

// For nlohmann::json (also from a braced list) and nlohmann::ordered_json alike.
template <class Json = nlohmann::json>
std::string json_text(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Whether a string or an object key anywhere in `value` holds U+0000, which PostgreSQL can store
// neither in jsonb nor in text.
bool has_nul(const nlohmann::json& value);

// `value` with every U+0000 in its strings and object keys replaced by U+FFFD.
nlohmann::json without_nul(const nlohmann::json& value);

// What a parse error says, for a person: "parse error at line 1, …" without nlohmann's
// "[json.exception.parse_error.101] " tag.
std::string parse_error_text(const nlohmann::json::exception& error);

}  // namespace chatd::base
