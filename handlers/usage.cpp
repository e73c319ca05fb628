#include "handlers/usage.hpp"

#include "base/clock.hpp"
#include "base/uuid.hpp"
#include "handlers/chat_query.hpp"
#include "handlers/error.hpp"
#include "llm/price.hpp"

namespace chatd::http {

namespace {

constexpr size_t kMaxChats = 100;  // by_chat: the dearest ones

// An RFC 3339 time (base::rfc3339_form): no "now", no bare date.
std::optional<std::string> time_param(const Request& request, const char* name) {
  auto value = request.query_param(name);
  if (value && !base::rfc3339_form(*value))
    throw ApiError(400, "Invalid query parameters.",
                   std::string(name) + ": an RFC 3339 time such as 2026-12-01T00:00:00Z",
                   {{name, "an RFC 3339 time such as 2026-12-01T00:00:00Z"}});
  return value;
}

// start_date and end_date; none: the current calendar month in UTC (chatd_usage_range).
struct Range {
  std::optional<std::string> start;
  std::optional<std::string> end;
};
Range range_params(const Request& request) {
  return {time_param(request, "start_date"), time_param(request, "end_date")};
}

// A statement over a range, a time PostgreSQL cannot read being the client's 400.
template <class Read>
auto in_range(Read&& read) {
  try {
    return read();
  } catch (const pqxx::data_exception&) {
    throw ApiError(400, "Invalid query parameters.", "start_date or end_date is not a time",
                   {{"start_date", "an RFC 3339 time"}, {"end_date", "an RFC 3339 time"}});
  }
}

nlohmann::ordered_json figures_json(const sql::UsageFigures& f) {
  return {{"total_cost_micros", f.total_cost_micros},
          {"input_tokens", f.input_tokens},
          {"output_tokens", f.output_tokens},
          {"cache_read_tokens", f.cache_read_tokens},
          {"cache_write_tokens", f.cache_write_tokens},
          {"reasoning_tokens", f.reasoning_tokens},
          {"calls", f.calls}};
}

nlohmann::ordered_json optional_json(const std::optional<std::string>& text) {
  return text ? nlohmann::ordered_json(*text) : nlohmann::ordered_json(nullptr);
}

}  // namespace

void cost_summary(Context& context, Request& request, ResponseWriter& out) {
  const Identity& caller = *request.identity;
  const std::string& named = request.path_param("user");
  std::optional<std::string> user =
      named == "me" ? std::optional<std::string>(caller.user_id) : base::parse_uuid(named);
  if (!user) throw ApiError(400, "Invalid user ID.");
  if (*user != caller.user_id && !caller.is_admin) throw resource_not_found();
  auto range = range_params(request);
  auto summary = in_range([&] {
    return context.store.usage.summary(*user, range.start, range.end, kMaxChats,
                                       context.reply.budget);
  });
  if (!summary) throw resource_not_found();
  nlohmann::ordered_json body = {{"start_date", summary->start_date},
                                 {"end_date", summary->end_date}};
  body.update(figures_json(summary->total));
  auto by_model = nlohmann::ordered_json::array();
  for (const auto& m : summary->by_model) {
    nlohmann::ordered_json entry = {{"model", m.model}, {"provider", m.provider}};
    entry.update(figures_json(m.figures));
    by_model.push_back(std::move(entry));
  }
  auto by_chat = nlohmann::ordered_json::array();
  for (const auto& c : summary->by_chat) {
    nlohmann::ordered_json entry = {{"chat_id", optional_json(c.chat_id)},
                                    {"title", optional_json(c.title)}};
    entry.update(figures_json(c.figures));
    by_chat.push_back(std::move(entry));
  }
  body["by_model"] = std::move(by_model);
  body["by_chat"] = std::move(by_chat);
  // Beside API.md §9's fields: the user's budget now, whatever the range (null: none).
  nlohmann::ordered_json budget;
  if (const auto& b = summary->budget)
    budget = {{"period", b->budget.period},
              {"limit_micros", b->budget.limit_micros},
              {"spent_micros", b->spent_micros},
              {"resets_at", b->resets_at}};
  body["budget"] = std::move(budget);
  respond_json(out, 200, body);
}

void cost_users(Context& context, Request& request, ResponseWriter& out) {
  if (!request.identity->is_admin)
    throw ApiError(403, "Forbidden.", "Only a site admin may see every user's usage.");
  auto range = range_params(request);
  auto limit = limit_param(request);
  std::optional<std::string> after;
  if (auto before = request.query_param("before")) {
    after = base::parse_uuid(*before);
    if (!after) throw ApiError(400, "Invalid user cursor.");
  }
  auto asked = limit;
  if (asked) ++*asked;  // one more says whether a next page follows
  auto page =
      in_range([&] { return context.store.usage.by_user(range.start, range.end, asked, after); });
  if (!page.cursor_found) throw ApiError(400, "Invalid user cursor.");
  auto& users = page.users;
  Headers headers;
  if (limit && users.size() > static_cast<size_t>(*limit)) {
    users.resize(*limit);
    headers.emplace_back("Link",
                         page_link(request, {}, {{"before", users.back().user_id}}, "next"));
  }
  auto list = nlohmann::ordered_json::array();
  for (const auto& u : users) {
    nlohmann::ordered_json entry = {{"user_id", u.user_id}, {"username", u.username}};
    entry.update(figures_json(u.figures));
    list.push_back(std::move(entry));
  }
  nlohmann::ordered_json body = {
      {"start_date", page.start_date}, {"end_date", page.end_date}, {"users", std::move(list)}};
  respond_json(out, 200, body, headers);
}

std::string usage_limit_detail(const sql::BudgetState& state) {
  const std::string& period = state.budget.period;
  std::string adjective = period == "day" ? "daily" : period == "week" ? "weekly" : "monthly";
  return "You have spent " + llm::format_dollars(state.spent_micros) + " of your " +
         llm::format_dollars(state.budget.limit_micros) + " " + adjective +
         " budget; it resets at " + state.resets_at + ".";
}

}  // namespace chatd::http
