// Budgets (API.md §9): checked before every model call against the usage ledger in PostgreSQL
// — the first in the claim (409), each later one with the statement that recorded the step
// before it (`3:`) — so that they hold across instances. The test stack prices fake-openai at
// 2.50 in / 10 out per million tokens.
#include <ctime>
#include <regex>
#include <thread>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using json = nlohmann::json;

// The first instant of next month in UTC, as the API writes times (chatd_time).
std::string next_month_utc() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  int year = utc.tm_year + 1900, month = utc.tm_mon + 2;
  if (month == 13) {
    month = 1;
    ++year;
  }
  return std::to_string(year) + (month < 10 ? "-0" : "-") + std::to_string(month) +
         "-01T00:00:00.000000Z";
}

class Budgets : public ReplyTest {
 protected:
  long long spent(const std::string& username) {
    return std::stoll(
        stack_->sql("SELECT coalesce(sum(cost_micros), 0) FROM usage_records WHERE user_id = '" +
                    stack_->user_id(username) + "'")[0][0]);
  }
  // `steps` steps, each with a tool call but the last; every call costs 3500 micro-dollars
  // (1000 tokens in, 100 out), the title nothing.
  static json costly_reply(int steps, int token_delay_ms = 0) {
    json plan = json::array();
    for (int i = 0; i + 1 < steps; ++i)
      plan.push_back({{"text", "step " + std::to_string(i)},
                      {"tool_calls", {{{"name", "nowhere__nothing"}, {"args", json::object()}}}}});
    plan.push_back({{"text", "the end"}});
    return script_message({{"steps", plan},
                           {"token_delay_ms", token_delay_ms},
                           {"usage", {{"prompt", 1000}, {"completion", 100}}},
                           {"title_usage", {{"prompt", 0}, {"completion", 0}}}});
  }
  static constexpr long long kCallCost = 3500;
};

// A budget period's bounds are UTC calendar bounds whatever the session's time zone: a day, a
// week from Monday, a month (leap February included), the instant given in any offset.
TEST_F(Budgets, PeriodsBeginAndResetOnUtcCalendarBounds) {
  const std::vector<std::vector<std::string>> cases = {
      // period, instant, starts, resets
      {"day", "2026-12-31T23:59:59.999Z", "2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z"},
      {"day", "2027-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z"},
      {"week", "2026-12-06T23:00:00Z", "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z"},  // Sunday
      {"week", "2026-12-07T00:00:00Z", "2026-12-07T00:00:00Z", "2026-12-14T00:00:00Z"},  // Monday
      {"week", "2026-12-31T12:00:00Z", "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z"},
      {"month", "2028-02-29T10:00:00+05:00", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"},
      {"month", "2026-03-01T00:30:00+01:00", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"},
      {"month", "2026-12-15T00:00:00Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c[0] + " " + c[1]);
    auto rows = stack_->sql(
        "SET TimeZone = 'Pacific/Chatham'; SELECT chatd_time(starts_at), chatd_time(resets_at) "
        "FROM chatd_budget_period('" +
        c[0] + "', '" + c[1] + "')");
    ASSERT_EQ(rows.size(), 1u);
    auto api_time = [](std::string t) { return t.insert(t.size() - 1, ".000000"); };
    EXPECT_EQ(rows[0], (std::vector<std::string>{api_time(c[2]), api_time(c[3])}));
  }
}

// At or over the budget, a send is refused before anything is claimed or stored: 409 with the
// spend and the reset time; its Idempotency-Key stays free for the retry that comes once the
// budget allows. `chatd users budget` sets, shows and clears a user's own budget.
TEST_F(Budgets, AUserAtTheLimitIsRefusedBeforeTheReply) {
  std::string user = unique("broke");
  auto token = stack_->new_user_token(user);
  std::string chat = create_chat(token)["id"];
  ASSERT_EQ(send(token, chat, "fake-openai", costly_reply(1)).status, 200);
  ASSERT_EQ(spent(user), kCallCost);

  auto set = stack_->chatd->cli({"users", "budget", user, "period=month;limit-usd=0.0035"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_NE(set.out.find(user + ": $0.0035 per month (their own), $0.0035 spent, resets at " +
                         next_month_utc() + "; reached"),
            std::string::npos)
      << set.out;

  // The cost summary has it beside its sums, for the page.
  auto summary = json::parse(call("GET", "/api/v2/chats/cost/me/summary", token).body);
  EXPECT_EQ(summary["budget"], (json{{"period", "month"},
                                     {"limit_micros", 3500},
                                     {"spent_micros", 3500},
                                     {"resets_at", next_month_utc()}}));
  auto before = stack_->sql("SELECT count(*) FROM chat_messages WHERE chat_id = '" + chat + "'");
  auto refused = http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"),
                             {"Coder-Session-Token: " + token, "Content-Type: application/json",
                              "Idempotency-Key: budget-retry"},
                             json{{"model", "fake-openai"}, {"message", costly_reply(1)}}.dump());
  ASSERT_EQ(refused.status, 409) << refused.body;
  auto body = json::parse(refused.body);
  EXPECT_EQ(body["message"], "Usage limit reached.");
  EXPECT_EQ(body["detail"], "You have spent $0.0035 of your $0.0035 monthly budget; it resets at " +
                                next_month_utc() + ".");
  EXPECT_EQ(stack_->sql("SELECT count(*) FROM chat_messages WHERE chat_id = '" + chat + "'"),
            before)
      << "nothing is stored";
  EXPECT_EQ(spent(user), kCallCost) << "no model call was made";

  auto none = stack_->chatd->cli({"users", "budget", user, "none"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.out.find(user + " has no budget (their own)."), std::string::npos) << none.out;
  EXPECT_TRUE(
      json::parse(call("GET", "/api/v2/chats/cost/me/summary", token).body)["budget"].is_null());
  auto retried = http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"),
                             {"Coder-Session-Token: " + token, "Content-Type: application/json",
                              "Idempotency-Key: budget-retry"},
                             json{{"model", "fake-openai"}, {"message", costly_reply(1)}}.dump());
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(count_prefix(retried.lines(), "d:"), 1u) << retried.body;

  auto back = stack_->chatd->cli({"users", "budget", user, "default"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_NE(back.out.find(user + " has no budget (the default)."), std::string::npos) << back.out;
  EXPECT_EQ(stack_->chatd->cli({"users", "budget", user, "period=fortnight;limit-usd=1"}).exit_code,
            2);
  EXPECT_EQ(stack_->chatd->cli({"users", "budget", unique("nobody"), "none"}).exit_code, 1);
}

// Reached during a reply, the budget ends it after the step whose call reached it: a `3:` part
// with the spend and reset time, no further model call, the reply stored as it streamed.
TEST_F(Budgets, ReachedDuringAReplyItEndsAfterTheStep) {
  std::string user = unique("midway");
  auto token = stack_->new_user_token(user);
  ASSERT_EQ(stack_->chatd->cli({"users", "budget", user, "period=day;limit-usd=0.01"}).exit_code,
            0);
  std::string chat = create_chat(token)["id"];
  auto r = send(token, chat, "fake-openai", costly_reply(6));
  ASSERT_EQ(r.status, 200);
  auto lines = r.lines();
  // 3500 + 3500 + 3500 = 10500 >= 10000 after the third call: no fourth.
  EXPECT_EQ(spent(user), 3 * kCallCost);
  EXPECT_EQ(count_prefix(lines, "e:"), 3u) << r.body;
  EXPECT_EQ(count_prefix(lines, "d:"), 0u) << r.body;
  ASSERT_FALSE(lines.empty());
  std::string last = lines.back();
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      last, m,
      std::regex(R"re(3:"Usage limit reached\. You have spent \$0\.0105 of your \$0\.01 daily )re"
                 R"re(budget; it resets at (\d{4}-\d\d-\d\dT00:00:00\.000000Z)\.")re")))
      << last;
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1]["finish_reason"], "error");
  expect_stored_as_rebuilt(r, stored[1]);
  // The next send is refused outright.
  EXPECT_EQ(send(token, chat, "fake-openai", costly_reply(1)).status, 409);
}

// Two instances, one user, simultaneous long replies: together they overshoot the budget by at
// most the calls in flight when it was reached — one per running reply — and afterwards both
// refuse the user. Without the check the replies would spend 4 × 6 calls.
TEST_F(Budgets, TwoInstancesTogetherOvershootByAtMostTheCallsInFlight) {
  const std::string budget = "period=month;limit-usd=0.01";
  Instance one(*stack_, "budget-one", {{"--budget", budget}});
  Instance two(*stack_, "budget-two", {{"--budget", budget}});
  std::string user = unique("shared");
  auto token = stack_->new_user_token(user);
  const int kReplies = 4;
  std::vector<std::string> chats;
  for (int i = 0; i < kReplies; ++i) chats.push_back(create_chat(token)["id"]);
  std::vector<StreamedResponse> results(kReplies);
  std::vector<std::thread> senders;
  for (int i = 0; i < kReplies; ++i)
    senders.emplace_back([&, i] {
      const Instance& at = i % 2 ? two : one;
      results[i] =
          http_stream("POST", at.url("/api/v2/chats/" + chats[i] + "/messages"),
                      {"Coder-Session-Token: " + token, "Content-Type: application/json"},
                      json{{"model", "fake-openai"}, {"message", costly_reply(6, 20)}}.dump());
    });
  for (auto& t : senders) t.join();
  size_t stopped = 0;
  for (const auto& r : results) {
    ASSERT_EQ(r.status, 200) << r.body;
    auto lines = r.lines();
    ASSERT_FALSE(lines.empty());
    bool limit = lines.back().rfind("3:\"Usage limit reached.", 0) == 0;
    EXPECT_TRUE(limit || lines.back().rfind("d:", 0) == 0) << r.body;
    stopped += limit;
  }
  EXPECT_GT(stopped, 0u);
  long long total = spent(user);
  EXPECT_GE(total, 10'000);
  EXPECT_LT(total, 10'000 + kReplies * kCallCost) << "more than the calls in flight";
  for (const Instance* at : {&one, &two}) {
    auto r = http("POST", at->url("/api/v2/chats/" + chats[0] + "/messages"),
                  {"Coder-Session-Token: " + token, "Content-Type: application/json"},
                  json{{"model", "fake-openai"}, {"message", costly_reply(1)}}.dump());
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(json::parse(r.body)["message"], "Usage limit reached.");
  }
  EXPECT_EQ(spent(user), total);
}

}  // namespace
}  // namespace chatd::test
