#pragma once

#include "handlers/context.hpp"
#include "handlers/http.hpp"

namespace chatd::http {

// GET /healthz: 200 "OK" when this worker reaches PostgreSQL, else 503.
void get_health(Context& context, Request& request, ResponseWriter& out);

}  // namespace chatd::http
