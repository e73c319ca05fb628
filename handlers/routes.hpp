// The route table: every endpoint as data {method, pattern, access, handler}, and the one entry
// point worker/ calls for each request.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "handlers/context.hpp"
#include "handlers/http.hpp"

namespace chatd::http {

// kUser: authenticated (handlers/auth.hpp) before the handler runs, in a round trip of its own.
// kUserInRead: the handler's first statement authenticates (the read and the token check in one
// round trip); the router only reads the credentials, and the handler admits the caller with
// what its statement said of the key before it does anything else.
enum class Access { kPublic, kUser, kUserInRead };

using Handler = void (*)(Context&, Request&, ResponseWriter&);

struct Route {
  std::string_view method;
  std::string_view pattern;  // literal segments and {name} parameters
  Access access;
  Handler handler;
};

std::span<const Route> routes();

struct RouteMatch {
  const Route* route = nullptr;                            // null: no route for this request
  std::map<std::string, std::string, std::less<>> params;  // when route is set
  std::string allow;  // when only the method is wrong: the methods the path accepts
};

RouteMatch match_route(std::span<const Route> table, std::string_view method,
                       std::string_view path);

// What became of a request, for the request log.
struct Outcome {
  std::string_view route;  // the matched pattern, or empty
  std::string user_id;
  std::string error;  // internal detail of a failure, never sent to the client
};

// Routes, authenticates and runs the handler; turns every error into its JSON response.
Outcome handle_request(Context& context, Request& request, ResponseWriter& out);

}  // namespace chatd::http
