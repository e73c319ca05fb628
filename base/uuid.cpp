#include "base/uuid.hpp"

#include <cctype>

#include "base/text.hpp"

namespace chatd::base {

std::optional<std::string> parse_uuid(std::string_view text) {
  if (text.size() == 45) {
    if (!equals_nocase(text.substr(0, 9), "urn:uuid:")) return std::nullopt;
    text.remove_prefix(9);
  } else if (text.size() == 38) {
    if (text.front() != '{' || text.back() != '}') return std::nullopt;
    text = text.substr(1, 36);
  }
  std::string hex;
  if (text.size() == 36) {
    for (size_t i = 0; i < 36; ++i) {
      bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash_position != (text[i] == '-')) return std::nullopt;
      if (!dash_position) hex += text[i];
    }
  } else if (text.size() == 32) {
    hex = text;
  } else {
    return std::nullopt;
  }
  hex = ascii_lower(hex);
  std::string out;
  for (size_t i = 0; i < hex.size(); ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(hex[i]))) return std::nullopt;
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    out += hex[i];
  }
  return out;
}

}  // namespace chatd::base
