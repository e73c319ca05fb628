// GET /api/v2/chats/watch (API.md §8): the caller's chats as they change, made on any host, as
// Server-Sent Events on the reply loop: an open sidebar holds no thread and no database
// connection.
#pragma once

#include "handlers/context.hpp"
#include "handlers/http.hpp"

namespace chatd::http {

void watch_chats(Context& context, Request& request, ResponseWriter& out);

}  // namespace chatd::http
