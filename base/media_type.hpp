// What a file is, judged from its first bytes (API.md §10), never from what a client says it is.
#pragma once

#include <optional>
#include <string_view>

namespace chatd::base {

// "image/png", "image/jpeg", "image/gif", "image/webp" or "application/pdf" when the bytes begin
// as such a file does (its whole signature, not a prefix of it); none for anything else.
std::optional<std::string_view> sniff_media_type(std::string_view bytes);

}  // namespace chatd::base
