#include "base/utf8.hpp"

namespace chatd::base {

namespace {

bool continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::string_view utf8_prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  // text[cut] is the first byte left out: while it continues a character, that character
  // started inside the prefix and goes out with it.
  size_t cut = max_bytes;
  while (cut > 0 && continuation_byte(text[cut])) --cut;
  return text.substr(0, cut);
}

}  // namespace chatd::base
