// Small ASCII text helpers every folder shares: trimming, case-insensitive comparison,
// percent-decoding and base64. Bytes outside ASCII are left as they are.
#pragma once

#include <string>
#include <string_view>

namespace chatd::base {

// What std::isspace calls white space in the C locale.
inline constexpr std::string_view kAsciiWhitespace = " \t\n\v\f\r";
// HTTP's optional white space (RFC 9110 §5.6.3) around header and cookie items.
inline constexpr std::string_view kHttpWhitespace = " \t";

// `text` without leading and trailing `characters`.
std::string_view trim(std::string_view text, std::string_view characters = kAsciiWhitespace);

// Nothing but white space (or empty).
bool is_blank(std::string_view text);

// A-Z lowered; every other byte unchanged.
std::string ascii_lower(std::string_view text);
bool equals_nocase(std::string_view a, std::string_view b);
bool starts_with_nocase(std::string_view text, std::string_view prefix);

// %XX escapes decoded (a '%' not followed by two hex digits stays as it is); '+' is a space
// only when `plus_is_space` (a query string), never in a path or a data: URL.
std::string percent_decode(std::string_view text, bool plus_is_space = false);
// Every byte but RFC 3986's unreserved ones (A-Z a-z 0-9 - . _ ~) as %XX.
std::string percent_encode(std::string_view text);
// Base64 (RFC 4648, padded), as a data: URL carries bytes.
std::string base64(std::string_view bytes);

}  // namespace chatd::base
