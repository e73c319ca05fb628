// Authentication as Coder's API does it (API.md §2).
#pragma once

#include <string>

#include "handlers/context.hpp"
#include "handlers/http.hpp"

namespace chatd::http {

// The token the request carries, from the first of: cookie coder_session_token, query
// parameter coder_session_token, header Coder-Session-Token, Authorization: Bearer.
// Empty when there is none.
std::string find_token(const Request& request);

// Checks the token; throws the contract's 401 ApiError on any failure.
Identity authenticate(Context& context, const Request& request);

}  // namespace chatd::http
