#include "base/json_text.hpp"

namespace chatd::base {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool has_nul_byte(std::string_view text) { return text.find('\0') != std::string_view::npos; }

std::string replace_nul(std::string text) {
  for (size_t at = text.find('\0'); at != std::string::npos; at = text.find('\0', at))
    text.replace(at, 1, kReplacement);
  return text;
}

}  // namespace

bool has_nul(const nlohmann::json& value) {
  if (value.is_string()) return has_nul_byte(value.get_ref<const std::string&>());
  if (value.is_object()) {
    for (const auto& [key, item] : value.items())
      if (has_nul_byte(key) || has_nul(item)) return true;
  } else if (value.is_array()) {
    for (const auto& item : value)
      if (has_nul(item)) return true;
  }
  return false;
}

nlohmann::json without_nul(const nlohmann::json& value) {
  if (value.is_string()) return replace_nul(value.get<std::string>());
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : value.items()) out[replace_nul(key)] = without_nul(item);
    return out;
  }
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(without_nul(item));
    return out;
  }
  return value;
}

std::string parse_error_text(const nlohmann::json::exception& error) {
  std::string what = error.what();
  auto bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

}  // namespace chatd::base
