// The time as the API writes it.
#pragma once

#include <string>

namespace chatd::base {

// The current time as the API writes times: RFC 3339, UTC, microseconds.
std::string now_rfc3339();

}  // namespace chatd::base
