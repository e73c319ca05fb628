// UUIDs as clients send them in paths (chat ids), read the way Coder read them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chatd::base {

// Parses a UUID in the forms Go's uuid.Parse accepts (as Coder did): 36-character hyphenated,
// {braced}, urn:uuid:-prefixed, or 32 hex digits. Returns the canonical lower-case form.
std::optional<std::string> parse_uuid(std::string_view text);

}  // namespace chatd::base
