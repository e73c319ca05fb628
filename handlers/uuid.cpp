#include "handlers/uuid.hpp"

#include <cctype>

namespace chatd::http {

std::optional<std::string> parse_uuid(std::string_view text) {
  if (text.size() == 45) {
    std::string prefix(text.substr(0, 9));
    for (auto& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (prefix != "urn:uuid:") return std::nullopt;
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
  std::string out;
  for (size_t i = 0; i < hex.size(); ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(hex[i]))) return std::nullopt;
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(hex[i])));
  }
  return out;
}

}  // namespace chatd::http
