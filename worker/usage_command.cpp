// chatd usage: every user's model calls and their cost over a range (the usage ledger, API.md
// §9), the dearest first, as GET /api/v2/chats/cost/users has them.
#include <cstdio>
#include <iostream>
#include <string>

#include "base/clock.hpp"
#include "llm/price.hpp"
#include "sql/pool.hpp"
#include "sql/store/usage.hpp"
#include "worker/commands.hpp"
#include "worker/config.hpp"

namespace chatd::commands {

void add_usage_options(po::options_description& options) {
  options.add_options()("start", po::value<std::string>(),
                        "from this RFC 3339 time (default: the first of this month, UTC)")(
      "end", po::value<std::string>(),
      "until this RFC 3339 time, excluded (default: the first of next month, UTC)");
}

int usage(const po::variables_map& values) {
  auto optional = [&](const char* name) -> std::optional<std::string> {
    if (!values.count(name)) return std::nullopt;
    return values[name].as<std::string>();
  };
  for (auto name : {"start", "end"}) {
    if (auto time = optional(name); time && !base::rfc3339_form(*time)) {
      std::cerr << "chatd: --" << name << ": an RFC 3339 time such as 2026-12-01T00:00:00Z\n";
      return 2;
    }
  }
  sql::Pool pool(config::general(values).database_url, 1, std::chrono::seconds(10));
  sql::UsageByUser page;
  try {
    page = sql::UsageStore(pool).by_user(optional("start"), optional("end"), std::nullopt,
                                         std::nullopt);
  } catch (const pqxx::data_exception&) {
    std::cerr << "chatd: --start and --end are RFC 3339 times such as 2026-12-01T00:00:00Z\n";
    return 2;
  }
  std::printf("From %s to %s\n", page.start_date.c_str(), page.end_date.c_str());
  std::printf("%-20s  %8s  %16s  %12s  %12s  %12s  %12s  %12s\n", "USERNAME", "CALLS", "COST",
              "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "REASONING");
  for (const auto& u : page.users) {
    const auto& f = u.figures;
    std::printf("%-20s  %8lld  %16s  %12lld  %12lld  %12lld  %12lld  %12lld\n", u.username.c_str(),
                f.calls, llm::format_dollars(f.total_cost_micros).c_str(), f.input_tokens,
                f.output_tokens, f.cache_read_tokens, f.cache_write_tokens, f.reasoning_tokens);
  }
  return 0;
}

}  // namespace chatd::commands
