#include "handlers/usage.hpp"

#include <regex>

#include "base/uuid.hpp"
#include "handlers/error.hpp"

namespace chatd::http {

namespace {

constexpr size_t kMaxChats = 100;  // by_chat: the dearest ones

// An RFC 3339 time with its offset (fractions optional), the form the API writes; PostgreSQL
// reads it and refuses an impossible one (month 13, 30 February). Nothing else: no "now", no
// bare date.
std::optional<std::string> time_param(const Request& request, const char* name) {
  static const std::regex kRfc3339(
      R"(^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$)");
  auto value = request.query_param(name);
  if (value && !std::regex_match(*value, kRfc3339))
    throw ApiError(400, "Invalid query parameters.",
                   std::string(name) + ": an RFC 3339 time such as 2026-12-01T00:00:00Z",
                   {{name, "an RFC 3339 time such as 2026-12-01T00:00:00Z"}});
  return value;
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
  auto start = time_param(request, "start_date");
  auto end = time_param(request, "end_date");
  std::optional<sql::UsageSummary> summary;
  try {
    summary = context.store.usage.summary(*user, start, end, kMaxChats);
  } catch (const pqxx::data_exception&) {
    throw ApiError(400, "Invalid query parameters.", "start_date or end_date is not a time",
                   {{"start_date", "an RFC 3339 time"}, {"end_date", "an RFC 3339 time"}});
  }
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
  respond_json(out, 200, body);
}

}  // namespace chatd::http
