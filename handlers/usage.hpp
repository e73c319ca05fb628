// What users' model calls used and cost (API.md §9), from the usage ledger, and what a user hears
// when their budget is reached.
#pragma once

#include "handlers/context.hpp"
#include "handlers/http.hpp"

namespace chatd::http {

// GET /api/v2/chats/cost/{user}/summary: {user} is "me" or a user id (another user's: site
// admins only, else the 404 of a chat one may not read).
void cost_summary(Context& context, Request& request, ResponseWriter& out);
// GET /api/v2/chats/cost/users: every user's totals, the dearest first, paged as the chat list
// (`limit`, `before` = the last user id of the page, Link rel="next"). Site admins only: 403.
void cost_users(Context& context, Request& request, ResponseWriter& out);

// A reached budget, as the 409 before a reply and the `3:` part during one say it.
inline constexpr const char* kUsageLimitReached = "Usage limit reached.";
// "You have spent $10.02 of your $10.00 monthly budget; it resets at 2027-01-01T00:00:00Z."
std::string usage_limit_detail(const sql::BudgetState& state);

}  // namespace chatd::http
