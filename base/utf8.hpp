// Cutting UTF-8 text at a byte limit without splitting a character in two.
#pragma once

#include <cstddef>
#include <string_view>

namespace chatd::base {

// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a UTF-8
// sequence: `text` itself when it fits.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

}  // namespace chatd::base
