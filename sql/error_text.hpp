// What may be logged of a failed statement: PostgreSQL's own messages quote the data they
// refused (a reply's text, a message), so a statement's error is logged by its SQLSTATE only.
#pragma once

#include <exception>
#include <string>

namespace chatd::sql {

// "database error 22P05" for an error PostgreSQL reported; what() for any other exception.
std::string error_text(const std::exception& error);

}  // namespace chatd::sql
