// Compact JSON text that never throws on bad UTF-8: model and tool output may hold invalid
// sequences, and they are written (to the wire, the database, the log) with U+FFFD instead.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace chatd::base {

// For nlohmann::json (also from a braced list) and nlohmann::ordered_json alike.
template <class Json = nlohmann::json>
std::string json_text(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace chatd::base
