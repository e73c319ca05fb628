#include "base/utf8.hpp"

namespace chatd::base {

namespace {

bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The code point that starts at text[i] (valid UTF-8), and its length in bytes.
char32_t decode(std::string_view text, size_t i, size_t& length) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  if (i + length > text.size()) length = 1;
  if (length == 1) return lead;
  char32_t code = lead & (0xFF >> (length + 1));
  for (size_t k = 1; k < length; ++k) code = (code << 6) | (byte(i + k) & 0x3F);
  return code;
}

bool white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

}  // namespace

std::string_view utf8_prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  // text[cut] is the first byte left out: while it continues a character, that character
  // started inside the prefix and goes out with it.
  size_t cut = max_bytes;
  while (cut > 0 && continuation_byte(text[cut])) --cut;
  return text.substr(0, cut);
}

size_t utf8_length(std::string_view text) {
  size_t count = 0;
  for (char c : text) count += !continuation_byte(c);
  return count;
}

std::string_view utf8_trim_space(std::string_view text) {
  size_t length = 0;
  while (!text.empty() && white_space(decode(text, 0, length))) text.remove_prefix(length);
  while (!text.empty()) {
    size_t start = text.size() - 1;
    while (start > 0 && continuation_byte(text[start])) --start;
    if (!white_space(decode(text, start, length))) break;
    text.remove_suffix(text.size() - start);
  }
  return text;
}

bool utf8_has_control(std::string_view text) {
  size_t length = 0;
  for (size_t i = 0; i < text.size(); i += length) {
    char32_t c = decode(text, i, length);
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return true;
  }
  return false;
}

}  // namespace chatd::base
