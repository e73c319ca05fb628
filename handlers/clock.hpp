#pragma once

#include <string>

namespace chatd::http {

// The current time as the API writes times: RFC 3339, UTC, microseconds.
std::string now_rfc3339();

}  // namespace chatd::http
