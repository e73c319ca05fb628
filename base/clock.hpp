// The time as the API writes it.
#pragma once

#include <string>
#include <string_view>

namespace chatd::base {

// The current time as the API writes times: RFC 3339, UTC, microseconds.
std::string now_rfc3339();

// Whether `text` has the form of an RFC 3339 time with its offset (fractions optional):
// 2026-12-01T00:00:00Z, 2026-12-01T01:00:00.5+01:00. The form only: PostgreSQL, which reads
// it, refuses an impossible one (month 13, 30 February).
bool rfc3339_form(std::string_view text);

}  // namespace chatd::base
