#include "worker/duration.hpp"

#include <cctype>
#include <charconv>
#include <limits>

#include "base/text.hpp"

namespace chatd {

std::optional<uint64_t> parse_unsigned(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

namespace {

// Splits "123abc" into 123 and "abc".
std::optional<std::pair<uint64_t, std::string_view>> number_and_unit(std::string_view& text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  auto number = parse_unsigned(text.substr(0, digits));
  if (!number) return std::nullopt;
  size_t letters = digits;
  while (letters < text.size() && (text[letters] < '0' || text[letters] > '9')) ++letters;
  std::string_view unit = text.substr(digits, letters - digits);
  text.remove_prefix(letters);
  return std::make_pair(*number, unit);
}

bool checked_add_product(uint64_t& total, uint64_t a, uint64_t b) {
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  if (a != 0 && b > kMax / a) return false;
  if (total > kMax - a * b) return false;
  total += a * b;
  return true;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (auto seconds = parse_unsigned(text)) {
    if (*seconds > std::numeric_limits<int64_t>::max() / 1000) return std::nullopt;
    return std::chrono::milliseconds(*seconds * 1000);
  }
  uint64_t total = 0;
  while (!text.empty()) {
    auto part = number_and_unit(text);
    if (!part) return std::nullopt;
    auto [number, unit] = *part;
    uint64_t scale;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60'000;
    else if (unit == "h")
      scale = 3'600'000;
    else if (unit == "d")
      scale = 86'400'000;
    else
      return std::nullopt;
    if (!checked_add_product(total, number, scale)) return std::nullopt;
  }
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds value) {
  auto ms = value.count();
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  auto s = ms / 1000;
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::optional<uint64_t> parse_size(std::string_view text) {
  auto part = number_and_unit(text);
  if (!part || !text.empty()) return std::nullopt;
  auto [number, unit] = *part;
  uint64_t scale;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "KiB" || unit == "k" || unit == "K")
    scale = 1024;
  else if (unit == "MiB" || unit == "m" || unit == "M")
    scale = 1024 * 1024;
  else if (unit == "GiB" || unit == "g" || unit == "G")
    scale = 1024 * 1024 * 1024;
  else
    return std::nullopt;
  uint64_t total = 0;
  if (!checked_add_product(total, number, scale)) return std::nullopt;
  return total;
}

std::optional<double> parse_rate(std::string_view text) {
  if (text == "0") return 0.0;
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto count = parse_unsigned(text.substr(0, slash));
  std::string_view per = text.substr(slash + 1);
  double seconds = per == "s" ? 1 : per == "m" ? 60 : per == "h" ? 3600 : 0;
  if (!count || seconds == 0) return std::nullopt;
  return static_cast<double>(*count) / seconds;
}

std::vector<std::string> split_list(const std::string& text, char separator) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string::npos) end = text.size();
    std::string item(base::trim(std::string_view(text).substr(start, end - start)));
    if (!item.empty()) out.push_back(std::move(item));
    start = end + 1;
  }
  return out;
}

std::string not_key_value(std::string_view list, size_t index, std::string_view item) {
  size_t n = 0;
  while (n < item.size() && n < 32 &&
         (std::isalnum(static_cast<unsigned char>(item[n])) || item[n] == '-' || item[n] == '_'))
    ++n;
  std::string where = std::string(list) + ": item " + std::to_string(index);
  if (n > 0 && n < item.size()) where += " (\"" + std::string(item.substr(0, n)) + "…\")";
  return where + " is not key=value";
}

}  // namespace chatd
