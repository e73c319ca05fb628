// The Prometheus text rendering, the counters behind it and the scoreboard records: what
// GET /metrics and GET /status print, from a real (process-local) scoreboard segment.
#include "worker/metrics.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "handlers/routes.hpp"
#include "worker/prometheus_text.hpp"
#include "worker/scoreboard.hpp"

namespace chatd::metrics {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// The value of the one sample written exactly as `series` (name and labels), or -1.
double value_of(const std::string& text, const std::string& series) {
  for (const auto& line : lines_of(text))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

// Checks the exposition format line by line: HELP then TYPE before a family's samples, every
// sample of a declared family, well-formed names, labels and values, no series twice.
void expect_valid_exposition(const std::string& text) {
  static const std::regex kSample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})? ([-+]?[0-9.eE+-]+|\+Inf|-Inf|NaN)$)");
  static const std::regex kHelp(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$)");
  static const std::regex kType(
      R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::map<std::string, std::string> types;
  std::set<std::string> series;
  std::string help_for;
  for (const auto& line : lines_of(text)) {
    SCOPED_TRACE(line);
    std::smatch m;
    if (std::regex_match(line, m, kHelp)) {
      EXPECT_EQ(types.count(m[1]), 0u) << "family declared twice";
      help_for = m[1];
    } else if (std::regex_match(line, m, kType)) {
      EXPECT_EQ(help_for, m[1]) << "TYPE must follow its HELP";
      types[m[1]] = m[2];
    } else if (std::regex_match(line, m, kSample)) {
      std::string name = m[1];
      std::string family = name;
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        std::string s = suffix;
        if (family.size() > s.size() && family.ends_with(s) &&
            types.count(family.substr(0, family.size() - s.size())) &&
            types[family.substr(0, family.size() - s.size())] == "histogram")
          family = family.substr(0, family.size() - s.size());
      }
      EXPECT_EQ(types.count(family), 1u) << "sample of an undeclared family";
      EXPECT_TRUE(series.insert(line.substr(0, line.rfind(' '))).second) << "series twice";
    } else {
      ADD_FAILURE() << "not a valid exposition line";
    }
  }
}

TEST(PrometheusText, FamilyAndSamples) {
  PrometheusText out;
  out.family("x_total", "counter", "Things.");
  out.sample("x_total", {}, uint64_t{3});
  out.sample("x_total", {{"a", "1"}, {"b", "two"}}, uint64_t{18446744073709551615u});
  out.family("g", "gauge", "A gauge.");
  out.sample("g", {}, int64_t{-2});
  out.sample("g", {{"k", "v"}}, 0.25);
  EXPECT_EQ(out.text(),
            "# HELP x_total Things.\n"
            "# TYPE x_total counter\n"
            "x_total 3\n"
            "x_total{a=\"1\",b=\"two\"} 18446744073709551615\n"
            "# HELP g A gauge.\n"
            "# TYPE g gauge\n"
            "g -2\n"
            "g{k=\"v\"} 0.25\n");
  expect_valid_exposition(out.text());
}

TEST(PrometheusText, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_label_value("/api/v2/chats/{chat}"), "/api/v2/chats/{chat}");
  PrometheusText out;
  out.family("m", "counter", "back\\slash and\nnewline \"quotes\" stay");
  out.sample("m", {{"server", "we\"ird\\name\n"}}, uint64_t{1});
  EXPECT_EQ(out.text(),
            "# HELP m back\\\\slash and\\nnewline \"quotes\" stay\n"
            "# TYPE m counter\n"
            "m{server=\"we\\\"ird\\\\name\\n\"} 1\n");
  expect_valid_exposition(out.text());
}

TEST(PrometheusText, Values) {
  EXPECT_EQ(format_value(0.005), "0.005");
  EXPECT_EQ(format_value(0.0025), "0.0025");
  EXPECT_EQ(format_value(1), "1");
  EXPECT_EQ(format_value(300), "300");
  EXPECT_EQ(format_value(1.5e-7), "1.5e-07");
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(PrometheusText, HistogramBucketsAreCumulativeAndEndWithInf) {
  PrometheusText out;
  out.family("d_seconds", "histogram", "Durations.");
  std::vector<double> bounds = {0.1, 1, 10};
  std::vector<uint64_t> counts = {2, 0, 3, 1};  // the last: above 10
  out.histogram("d_seconds", {{"route", "/x"}}, bounds, counts, 42.5);
  EXPECT_EQ(out.text(),
            "# HELP d_seconds Durations.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
            "d_seconds_bucket{route=\"/x\",le=\"1\"} 2\n"
            "d_seconds_bucket{route=\"/x\",le=\"10\"} 5\n"
            "d_seconds_bucket{route=\"/x\",le=\"+Inf\"} 6\n"
            "d_seconds_sum{route=\"/x\"} 42.5\n"
            "d_seconds_count{route=\"/x\"} 6\n");
  expect_valid_exposition(out.text());
}

TEST(Histogram, ObservationsLandInTheirBucket) {
  Histogram h;
  h.observe(500us);   // <= 0.001
  h.observe(1000us);  // == 0.001: the bound is inclusive
  h.observe(1001us);  // <= 0.0025
  h.observe(2s);      // <= 2.5
  h.observe(1000s);   // above 300
  EXPECT_EQ(h.buckets[0].load(), 2u);
  EXPECT_EQ(h.buckets[1].load(), 1u);
  EXPECT_EQ(h.buckets[10].load(), 1u);  // 2.5
  EXPECT_EQ(h.buckets[kLatencyBounds.size()].load(), 1u);
  EXPECT_EQ(h.sum_us.load(), 500u + 1000 + 1001 + 2'000'000 + 1'000'000'000);
}

TEST(Indexes, RoutesStatusesProvidersReasons) {
  ASSERT_LT(http::routes().size(), kUnmatchedRoute) << "raise kMaxRoutes";
  for (size_t i = 0; i < http::routes().size(); ++i)
    EXPECT_EQ(route_index(http::routes()[i].method, http::routes()[i].pattern), i);
  EXPECT_EQ(route_index("DELETE", "/api/v2/chats"), kUnmatchedRoute);
  EXPECT_EQ(route_index("GET", "/nope"), kUnmatchedRoute);
  EXPECT_NE(route_index("GET", "/api/v2/chats"), route_index("POST", "/api/v2/chats"));
  EXPECT_EQ(status_index(200), 200u);
  EXPECT_EQ(status_index(599), 599u);
  EXPECT_EQ(status_index(600), 0u);
  EXPECT_EQ(status_index(-1), 0u);
  EXPECT_EQ(provider_label(provider_index("anthropic")), "anthropic");
  EXPECT_EQ(provider_label(provider_index("mistral")), "other");
  EXPECT_EQ(provider_index("mistral"), kProviderSlots - 1);
}

class Rendering : public ::testing::Test {
 protected:
  scoreboard::Scoreboard board_{4, 8};
};

TEST_F(Rendering, EveryDocumentedFamilyIsThereAndValid) {
  std::string text = render(board_);
  expect_valid_exposition(text);
  for (const char* family : {"chatd_http_requests_total counter",
                             "chatd_http_request_duration_seconds histogram",
                             "chatd_http_requests_in_flight gauge",
                             "chatd_replies_running gauge",
                             "chatd_replies_total counter",
                             "chatd_reply_parts_total counter",
                             "chatd_reply_tokens_total counter",
                             "chatd_upstream_requests_total counter",
                             "chatd_upstream_errors_total counter",
                             "chatd_upstream_retries_total counter",
                             "chatd_mcp_calls_total counter",
                             "chatd_model_calls_total counter",
                             "chatd_model_tokens_total counter",
                             "chatd_model_cost_dollars_total counter",
                             "chatd_db_pool_waits_total counter",
                             "chatd_db_pool_wait_seconds_total counter",
                             "chatd_db_pool_timeouts_total counter",
                             "chatd_worker_restarts_total counter",
                             "chatd_workers gauge",
                             "chatd_worker_threads gauge",
                             "chatd_start_time_seconds gauge"})
    EXPECT_NE(text.find(std::string("# TYPE ") + family + "\n"), std::string::npos) << family;
  EXPECT_EQ(value_of(text, "chatd_reply_parts_total"), 0);
  EXPECT_EQ(value_of(text, "chatd_worker_restarts_total{reason=\"crash\"}"), 0);
}

TEST_F(Rendering, RequestsByRouteAndStatusWithLatency) {
  auto slot = board_.claim();
  ASSERT_TRUE(slot);
  WorkerObserver observer(&board_, static_cast<int>(*slot));
  observer.worker_started(8);
  for (int i = 0; i < 3; ++i) observer.request_done("GET", "/api/v2/chats", 200, 2ms);
  observer.request_done("GET", "/api/v2/chats", 401, 1ms);
  observer.request_done("POST", "/api/v2/chats", 201, 20s);
  observer.request_done("DELETE", "", 405, 100us);
  std::string text = render(board_);
  expect_valid_exposition(text);
  EXPECT_EQ(
      value_of(text,
               R"(chatd_http_requests_total{method="GET",route="/api/v2/chats",status="200"})"),
      3);
  EXPECT_EQ(
      value_of(text,
               R"(chatd_http_requests_total{method="GET",route="/api/v2/chats",status="401"})"),
      1);
  EXPECT_EQ(
      value_of(text,
               R"(chatd_http_requests_total{method="POST",route="/api/v2/chats",status="201"})"),
      1);
  EXPECT_EQ(value_of(text, R"(chatd_http_requests_total{route="unmatched",status="405"})"), 1);
  // Statuses never seen are not listed.
  EXPECT_EQ(text.find(R"(route="/api/v2/chats",status="500")"), std::string::npos);
  EXPECT_EQ(
      value_of(
          text,
          R"(chatd_http_request_duration_seconds_bucket{method="GET",route="/api/v2/chats",le="0.001"})"),
      1);
  EXPECT_EQ(
      value_of(
          text,
          R"(chatd_http_request_duration_seconds_bucket{method="GET",route="/api/v2/chats",le="0.0025"})"),
      4);
  EXPECT_EQ(
      value_of(
          text,
          R"(chatd_http_request_duration_seconds_bucket{method="GET",route="/api/v2/chats",le="+Inf"})"),
      4);
  EXPECT_EQ(
      value_of(text,
               R"(chatd_http_request_duration_seconds_count{method="GET",route="/api/v2/chats"})"),
      4);
  EXPECT_DOUBLE_EQ(
      value_of(text,
               R"(chatd_http_request_duration_seconds_sum{method="GET",route="/api/v2/chats"})"),
      0.007);
  EXPECT_EQ(
      value_of(
          text,
          R"(chatd_http_request_duration_seconds_bucket{method="POST",route="/api/v2/chats",le="10"})"),
      0);
  EXPECT_EQ(
      value_of(
          text,
          R"(chatd_http_request_duration_seconds_bucket{method="POST",route="/api/v2/chats",le="30"})"),
      1);
  EXPECT_EQ(board_.worker(*slot).requests.load(), 6u);
}

// The usage ledger's figures by model (API.md §9): calls by kind, tokens by kind, cost in
// dollars; a model past the table's size counts under "other".
TEST_F(Rendering, ModelCallsTokensAndCostByModel) {
  auto slot = board_.claim();
  ASSERT_TRUE(slot);
  WorkerObserver observer(&board_, static_cast<int>(*slot));
  llm::ReplyObserver& replies = *observer.replies();
  llm::Usage usage;  // OpenAI's way: 1000 prompt of which 600 cached, 50 out of which 20 reasoning
  usage.prompt_tokens = 1000;
  usage.cache_read_tokens = 600;
  usage.completion_tokens = 50;
  usage.reasoning_tokens = 20;
  replies.model_call("gpt-4o", false, usage, 2250);
  replies.model_call("gpt-4o", false, usage, 2250);
  replies.model_call("gpt-4o", true, llm::Usage{}, std::nullopt);
  replies.model_call("llama3", false, usage, std::nullopt);
  for (size_t i = 0; i < kMaxModels; ++i)
    replies.model_call("m" + std::to_string(i), false, llm::Usage{}, std::nullopt);

  std::string text = render(board_);
  expect_valid_exposition(text);
  EXPECT_EQ(value_of(text, R"(chatd_model_calls_total{model="gpt-4o",call="step"})"), 2);
  EXPECT_EQ(value_of(text, R"(chatd_model_calls_total{model="gpt-4o",call="title"})"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_model_tokens_total{model="gpt-4o",kind="input"})"), 800);
  EXPECT_EQ(value_of(text, R"(chatd_model_tokens_total{model="gpt-4o",kind="cache_read"})"), 1200);
  EXPECT_EQ(value_of(text, R"(chatd_model_tokens_total{model="gpt-4o",kind="output"})"), 100);
  EXPECT_EQ(value_of(text, R"(chatd_model_tokens_total{model="gpt-4o",kind="reasoning"})"), 40);
  EXPECT_DOUBLE_EQ(value_of(text, R"(chatd_model_cost_dollars_total{model="gpt-4o",call="step"})"),
                   0.0045);
  EXPECT_EQ(text.find(R"(chatd_model_cost_dollars_total{model="llama3")"), std::string::npos)
      << "an unpriced model has no cost";
  EXPECT_EQ(value_of(text, R"(chatd_model_tokens_total{model="llama3",kind="input"})"), 400);
  // gpt-4o, llama3 and m0..m61 took the 64 slots: m62 and m63 are "other".
  EXPECT_EQ(value_of(text, R"(chatd_model_calls_total{model="m61",call="step"})"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_model_calls_total{model="other",call="step"})"), 2);
}

TEST_F(Rendering, RepliesUpstreamToolsPoolAndRestarts) {
  auto slot = board_.claim();
  ASSERT_TRUE(slot);
  WorkerObserver observer(&board_, static_cast<int>(*slot));
  observer.worker_started(8);
  llm::ReplyObserver& replies = *observer.replies();
  replies.reply_started();
  replies.reply_started();
  for (char code : {'f', '0', '0', 'e', 'd'}) replies.part(code);
  replies.upstream_call("openai", 429, llm::UpstreamFailure::kStatus);
  replies.upstream_retry("openai");
  replies.upstream_call("openai", 200, llm::UpstreamFailure::kNone);
  replies.upstream_call("google", 0, llm::UpstreamFailure::kConnect);
  replies.upstream_call("anthropic", 200, llm::UpstreamFailure::kDropped);
  std::string running = render(board_);
  EXPECT_EQ(value_of(running, "chatd_replies_running"), 2);
  llm::ReplyResult result;
  result.finish_reason = llm::FinishReason::kStop;
  result.usage.prompt_tokens = 10;
  result.usage.completion_tokens = 5;
  replies.reply_finished(&result);
  replies.reply_finished(nullptr);  // ended with an exception
  observer.mcp_call("files", llm::McpToolRunner::CallOutcome::kOk);
  observer.mcp_call("files", llm::McpToolRunner::CallOutcome::kOk);
  observer.mcp_call("tickets", llm::McpToolRunner::CallOutcome::kToolError);
  observer.mcp_call("", llm::McpToolRunner::CallOutcome::kFailed);
  observer.pool_wait(1500us, false);
  observer.pool_wait(5s, true);
  board_.counters().worker_restarts[kCrashRestart]++;

  std::string text = render(board_);
  expect_valid_exposition(text);
  EXPECT_EQ(value_of(text, "chatd_replies_running"), 0);
  EXPECT_EQ(value_of(text, R"(chatd_replies_total{finish_reason="stop"})"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_replies_total{finish_reason="error"})"), 1);
  EXPECT_EQ(value_of(text, "chatd_reply_parts_total"), 5);
  EXPECT_EQ(value_of(text, R"(chatd_reply_tokens_total{kind="prompt"})"), 10);
  EXPECT_EQ(value_of(text, R"(chatd_reply_tokens_total{kind="completion"})"), 5);
  EXPECT_EQ(value_of(text, R"(chatd_upstream_requests_total{provider="openai",status="429"})"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_upstream_requests_total{provider="openai",status="200"})"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_upstream_requests_total{provider="google",status="0"})"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_upstream_errors_total{provider="openai",kind="status"})"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_upstream_errors_total{provider="google",kind="connect"})"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_upstream_errors_total{provider="anthropic",kind="dropped"})"),
            1);
  EXPECT_EQ(value_of(text, R"(chatd_upstream_retries_total{provider="openai"})"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_mcp_calls_total{server="files",result="ok"})"), 2);
  EXPECT_EQ(value_of(text, R"(chatd_mcp_calls_total{server="tickets",result="tool_error"})"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_mcp_calls_total{server="unknown",result="failed"})"), 1);
  EXPECT_EQ(value_of(text, "chatd_db_pool_waits_total"), 2);
  EXPECT_DOUBLE_EQ(value_of(text, "chatd_db_pool_wait_seconds_total"), 5.0015);
  EXPECT_EQ(value_of(text, "chatd_db_pool_timeouts_total"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_worker_restarts_total{reason="crash"})"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_worker_restarts_total{reason="recycle"})"), 0);
  EXPECT_EQ(value_of(text, R"(chatd_workers{state="starting"})"), 1);
  EXPECT_EQ(value_of(text, R"(chatd_worker_threads{state="idle"})"), 8);
}

TEST_F(Rendering, McpServerNamesKeepTheirIndex) {
  auto& counters = board_.counters();
  size_t a = mcp_server_index(counters, "a");
  size_t b = mcp_server_index(counters, "b");
  EXPECT_NE(a, b);
  EXPECT_EQ(mcp_server_index(counters, "a"), a);
  EXPECT_EQ(mcp_server_index(counters, ""), kMaxMcpServers);
  for (size_t i = 0; i < kMaxMcpServers; ++i) mcp_server_index(counters, "s" + std::to_string(i));
  EXPECT_EQ(mcp_server_index(counters, "one-too-many"), kMaxMcpServers);
}

TEST(AtomicText, StoresLoadsAndCutsAtACharacterBoundary) {
  scoreboard::AtomicText<8> text;
  EXPECT_EQ(text.load(), "");
  text.store("GET");
  EXPECT_EQ(text.load(), "GET");
  text.store("OPTIONS!");  // exactly 8
  EXPECT_EQ(text.load(), "OPTIONS!");
  text.store("0123456789");
  EXPECT_EQ(text.load(), "01234567");
  text.store("abcdef\xC3\xA9xyz");  // "é" ends exactly at the end
  EXPECT_EQ(text.load(), "abcdef\xC3\xA9");
  text.store("abcdefg\xC3\xA9xyz");  // "é" would straddle the end
  EXPECT_EQ(text.load(), "abcdefg");
  text.store("");
  EXPECT_EQ(text.load(), "");
}

TEST(Scoreboard, SlotsAreClaimedAndReleased) {
  scoreboard::Scoreboard board(2, 4);
  EXPECT_EQ(board.master_pid(), ::getpid());
  auto a = board.claim(), b = board.claim();
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(board.claim());
  EXPECT_EQ(board.workers().size(), 2u);
  board.release(*a);
  EXPECT_EQ(board.workers().size(), 1u);
  EXPECT_EQ(board.claim(), a);
  EXPECT_EQ(board.thread(*a, 4), nullptr);
  EXPECT_NE(board.thread(*a, 3), nullptr);
  EXPECT_GE(scoreboard::Scoreboard::slots_for(4), 10u);
  EXPECT_GE(scoreboard::Scoreboard::threads_for(64), 64u);
}

TEST(Scoreboard, ARequestInFlightIsSeenUntilItEnds) {
  scoreboard::Scoreboard board(2, 4);
  auto slot = board.claim();
  ASSERT_TRUE(slot);
  WorkerObserver observer(&board, static_cast<int>(*slot));
  observer.worker_started(4);
  observer.set_state(scoreboard::WorkerState::kReady);
  {
    WorkerObserver::Scope scope(observer, 2, "0123456789abcdef", "POST");
    observer.on_route("POST", "/api/v2/chats/{chat}/messages");
    observer.on_user("user-1");
    observer.on_chat("0b7e1d3c-aaaa-4bbb-8ccc-123456789abc");
    observer.on_model("fake-openai");
    EXPECT_EQ(scope.notes().model, "fake-openai");
    EXPECT_EQ(scope.notes().chat_id, "0b7e1d3c-aaaa-4bbb-8ccc-123456789abc");
    auto workers = board.workers();
    ASSERT_EQ(workers.size(), 1u);
    EXPECT_EQ(workers[0].pid, ::getpid());
    EXPECT_EQ(workers[0].state, scoreboard::WorkerState::kReady);
    EXPECT_EQ(workers[0].threads, 4u);
    EXPECT_EQ(workers[0].busy, 1u);
    ASSERT_EQ(workers[0].current.size(), 1u);
    const auto& r = workers[0].current[0];
    EXPECT_EQ(r.thread, 2u);
    EXPECT_EQ(r.request_id, "0123456789abcdef");
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.route, "/api/v2/chats/{chat}/messages");
    EXPECT_EQ(r.user_id, "user-1");
    EXPECT_EQ(r.model, "fake-openai");

    auto status = board.status_json();
    EXPECT_EQ(status["master_pid"], ::getpid());
    EXPECT_EQ(status["busy"], 1);
    EXPECT_EQ(status["idle"], 3);
    EXPECT_EQ(status["workers"][0]["current"][0]["route"], "/api/v2/chats/{chat}/messages");
    std::string table = scoreboard::format_status(nlohmann::json::parse(status.dump()));
    EXPECT_NE(table.find("Requests in flight:"), std::string::npos) << table;
    EXPECT_NE(table.find("/api/v2/chats/{chat}/messages"), std::string::npos) << table;
    EXPECT_NE(table.find(std::to_string(::getpid())), std::string::npos) << table;
    EXPECT_NE(table.find("ready"), std::string::npos) << table;
  }
  auto workers = board.workers();
  EXPECT_EQ(workers[0].busy, 0u);
  EXPECT_TRUE(workers[0].current.empty());
  std::string table = scoreboard::format_status(nlohmann::json::parse(board.status_json().dump()));
  EXPECT_NE(table.find("No requests in flight."), std::string::npos) << table;
  // Calls outside a request scope change nothing and do not crash.
  observer.on_route("GET", "/x");
  observer.on_model("m");
}

TEST(Scoreboard, ReleasingASlotClearsItsThreads) {
  scoreboard::Scoreboard board(1, 2);
  auto slot = board.claim();
  WorkerObserver observer(&board, static_cast<int>(*slot));
  observer.worker_started(2);
  auto* scope = new WorkerObserver::Scope(observer, 0, "id", "GET");  // a worker that died
  EXPECT_EQ(board.workers()[0].busy, 1u);
  board.release(*slot);
  EXPECT_TRUE(board.workers().empty());
  auto again = board.claim();
  ASSERT_EQ(again, slot);
  board.worker(*again).threads = 2;
  EXPECT_EQ(board.workers()[0].busy, 0u);
  delete scope;
}

TEST(WorkerObserver, WithoutABoardNothingCounts) {
  WorkerObserver observer(nullptr, 0);
  EXPECT_EQ(observer.replies(), nullptr);
  observer.request_done("GET", "/healthz", 200, 1ms);
  observer.pool_wait(1ms, false);
  EXPECT_EQ(observer.metrics_text(), "");
  WorkerObserver::Scope scope(observer, 0, "id", "GET");
  observer.on_model("m");
  EXPECT_EQ(scope.notes().model, "m");
}

}  // namespace
}  // namespace chatd::metrics
