#pragma once

#include "handlers/context.hpp"
#include "handlers/http.hpp"

namespace chatd::http {

// GET /api/v2/deployment/llms: the configured models, never keys or URLs.
void list_models(Context& context, Request& request, ResponseWriter& out);

}  // namespace chatd::http
