// Valid UTF-8 text: cut at a byte limit without splitting a character in two, counted and
// trimmed by code points.
#pragma once

#include <cstddef>
#include <string_view>

namespace chatd::base {

// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a UTF-8
// sequence: `text` itself when it fits.
std::string_view utf8_prefix(std::string_view text, size_t max_bytes);

// Code points in `text`.
size_t utf8_length(std::string_view text);

// `text` without leading and trailing Unicode White_Space (as Go's strings.TrimSpace).
std::string_view utf8_trim_space(std::string_view text);

// Whether `text` holds a control character (Unicode Cc: U+0000-U+001F, U+007F-U+009F).
bool utf8_has_control(std::string_view text);

}  // namespace chatd::base
