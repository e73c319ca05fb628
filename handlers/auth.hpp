// Authentication as Coder's API does it (API.md §2), in two halves: what needs no database,
// before a route's handler; and the key against what the database says of it, in a round trip
// of its own (Access::kUser) or in the statement of the handler's read (Access::kUserInRead).
#pragma once

#include <optional>
#include <string>

#include "handlers/context.hpp"
#include "handlers/http.hpp"
#include "sql/store/auth.hpp"

namespace chatd::http {

// The token the request carries, from the first of: cookie coder_session_token, query
// parameter coder_session_token, header Coder-Session-Token, Authorization: Bearer.
// Empty when there is none.
std::string find_token(const Request& request);

// A token is there and well-formed, and a cookie does not authenticate a cross-site write:
// else throws the contract's 401 (or a 403) ApiError.
Credentials read_credentials(const Request& request);

// What a statement that authenticates needs: the request's credentials and the rate limit.
sql::KeyCheck key_check(const Context& context, const Request& request);

// The request's credentials against what the database said of the key (none: no such key):
// sets request.identity, or throws the 401 or 429 ApiError.
const Identity& admit(Context& context, Request& request,
                      const std::optional<sql::ApiKeyRecord>& key);

// admit() after a round trip of its own.
const Identity& authenticate(Context& context, Request& request);

}  // namespace chatd::http
