// The query parameters of the lists (API.md §8): GET /api/v2/chats's `q`, `label`, `limit` and
// `before`, and GET …/messages's `limit`, `before_id` and `after_id`, checked and turned into
// what the store reads; the Link header (RFC 8288) of a page.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "handlers/http.hpp"
#include "sql/store/chats.hpp"
#include "sql/store/messages.hpp"

namespace chatd::http {

// A label's key as API.md §8 has it: 1-64 of [A-Za-z0-9_.-] (PATCH's labels, label filters).
bool valid_label_key(std::string_view key);

// Throws 400 "Invalid query parameters." with a detail naming the term for a malformed `q`,
// `label` or `limit`; 400 "Invalid chat cursor." for a `before` that is not a chat id.
sql::ChatListQuery chat_list_query(const Request& request);

// `limit` of a list: 1 to 200, none when absent. Throws 400 "Invalid query parameters.".
std::optional<int> limit_param(const Request& request);

// Nothing when the request has none of `limit`, `before_id`, `after_id` (the whole history).
// Throws 400 "Invalid query parameters." for a bad `limit`.
std::optional<sql::MessagePageQuery> message_page_query(const Request& request);

// `<{path}?{query}>; rel="{rel}"` of another page: the request's own query string (its order
// and encoding kept) without the parameters in `drop` and in `set` (and never the token), then
// those of `set`.
std::string page_link(const Request& request, std::initializer_list<std::string_view> drop,
                      std::initializer_list<std::pair<std::string_view, std::string_view>> set,
                      std::string_view rel);

}  // namespace chatd::http
