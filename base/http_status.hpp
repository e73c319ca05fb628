// The reason phrases of HTTP status codes: for the status line chatd sends, and for messages
// about the statuses providers and MCP servers answer.
#pragma once

#include <string_view>

namespace chatd::base {

// "Not Found" for 404 (RFC 9110 wording, plus Anthropic's 529 "Overloaded"); empty for a
// status without a phrase here.
std::string_view http_status_text(long status);

}  // namespace chatd::base
