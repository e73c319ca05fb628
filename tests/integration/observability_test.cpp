// Status and metrics (GET /metrics, GET /status, `chatd status`) and the request log, through
// nginx against the running stack: the counters move with what the tests do, the scoreboard
// shows the real worker processes and the requests they run, every response carries a request
// id that names its log line, and no token or message text ever reaches the log.
#include <curl/curl.h>
#include <signal.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using nlohmann::json;

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Observability : public ReplyTest {
 protected:
  std::string metrics() {
    auto r = http("GET", stack_->url("/metrics"));
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    return r.body;
  }

  // The value of one series, written exactly as in the text; 0 when it is not there (series
  // that never counted anything are left out).
  static double value(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return 0;
  }

  double metric(const std::string& series) { return value(metrics(), series); }

  // The lines of the chatd_upstream_ families and of the replies, to show with a failure.
  static std::string upstream_lines(const std::string& text) {
    std::istringstream in(text);
    std::string line, out;
    while (std::getline(in, line))
      if (line.rfind("chatd_upstream_", 0) == 0 || line.rfind("chatd_replies_", 0) == 0)
        out += line + "\n";
    return out;
  }

  json status() {
    auto r = http("GET", stack_->url("/status"));
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    return json::parse(r.body, nullptr, false);
  }

  // The pids of the workers the scoreboard shows, sorted.
  std::vector<pid_t> status_pids(const std::string& state = "ready") {
    std::vector<pid_t> pids;
    json now = status();
    for (const auto& w : now["workers"])
      if (w["state"] == state) pids.push_back(w["pid"].get<pid_t>());
    std::sort(pids.begin(), pids.end());
    return pids;
  }

  std::vector<pid_t> real_pids() {
    auto pids = stack_->chatd->worker_pids();
    std::sort(pids.begin(), pids.end());
    return pids;
  }

  // The request log lines with this request id.
  std::vector<json> log_lines(const std::string& request_id) {
    std::vector<json> out;
    std::istringstream in(read_all(stack_->chatd->log_path()));
    std::string line;
    while (std::getline(in, line)) {
      if (line.find(request_id) == std::string::npos) continue;
      auto parsed = json::parse(line, nullptr, false);
      if (parsed.is_object() && parsed.value("request_id", "") == request_id &&
          parsed.value("msg", "") == "request")
        out.push_back(parsed);
    }
    return out;
  }

  // The one request line of `request_id` (waiting a moment for it).
  json request_line(const std::string& request_id) {
    std::vector<json> lines;
    wait_until(
        [&] {
          lines = log_lines(request_id);
          return !lines.empty();
        },
        5s);
    EXPECT_EQ(lines.size(), 1u) << request_id;
    return lines.empty() ? json() : lines[0];
  }

  // Waits until no reply runs: replies that earlier tests left running in the background (a
  // client that hung up) would add their parts and calls to the counters compared here.
  void wait_for_quiet() {
    EXPECT_TRUE(wait_until([&] { return metric("chatd_replies_running") == 0; }, 60s, 100ms));
  }

  // Waits until the stack has its two workers ready again (after a test that killed one).
  void expect_two_ready_workers() {
    EXPECT_TRUE(wait_until(
        [&] {
          auto real = real_pids();
          return real.size() == 2 && status_pids() == real;
        },
        10s))
        << "scoreboard " << status().dump();
  }
};

const char* const kFamilies[] = {
    "chatd_http_requests_total counter",
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
    "chatd_db_pool_waits_total counter",
    "chatd_db_pool_wait_seconds_total counter",
    "chatd_db_pool_timeouts_total counter",
    "chatd_worker_restarts_total counter",
    "chatd_workers gauge",
    "chatd_worker_threads gauge",
    "chatd_start_time_seconds gauge",
};

const std::string kChats200 =
    R"(chatd_http_requests_total{method="GET",route="/api/v2/chats",status="200"})";
const std::string kChats401 =
    R"(chatd_http_requests_total{method="GET",route="/api/v2/chats",status="401"})";
const std::string kChatsLatencyCount =
    R"(chatd_http_request_duration_seconds_count{method="GET",route="/api/v2/chats"})";
const std::string kCrashRestarts = R"(chatd_worker_restarts_total{reason="crash"})";

TEST_F(Observability, MetricsHaveTheDocumentedFamilies) {
  expect_two_ready_workers();
  auto r = http("GET", stack_->url("/metrics"));
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  for (const char* family : kFamilies)
    EXPECT_NE(r.body.find(std::string("# TYPE ") + family + "\n"), std::string::npos) << family;
  EXPECT_EQ(value(r.body, R"(chatd_workers{state="ready"})"), 2);
  EXPECT_EQ(value(r.body, R"(chatd_worker_threads{state="busy"})") +
                value(r.body, R"(chatd_worker_threads{state="idle"})"),
            2 * 16);
  // This very request is in flight while the text is made.
  EXPECT_GE(value(r.body, "chatd_http_requests_in_flight"), 1);
  EXPECT_GT(value(r.body, "chatd_start_time_seconds"), 1.7e9);
}

TEST_F(Observability, RequestCountersRiseByTheRequestsMade) {
  auto token = stack_->new_user_token(unique("count"));
  std::string before = metrics();
  const int n = 7;
  for (int i = 0; i < n; ++i) ASSERT_EQ(call("GET", "/api/v2/chats", token).status, 200);
  ASSERT_EQ(call("GET", "/api/v2/chats").status, 401);
  ASSERT_EQ(call("GET", "/api/v2/chats", "not-a-token").status, 401);
  ASSERT_EQ(call("DELETE", "/api/v2/chats", token).status, 405);
  std::string after = metrics();
  EXPECT_EQ(value(after, kChats200) - value(before, kChats200), n);
  EXPECT_EQ(value(after, kChatsLatencyCount) - value(before, kChatsLatencyCount), n + 2);
  EXPECT_EQ(value(after, kChats401) - value(before, kChats401), 2);
  const std::string unmatched405 = R"(chatd_http_requests_total{route="unmatched",status="405"})";
  EXPECT_EQ(value(after, unmatched405) - value(before, unmatched405), 1);
  // The metrics requests count themselves too.
  const std::string self =
      R"(chatd_http_requests_total{method="GET",route="/metrics",status="200"})";
  EXPECT_GE(value(after, self) - value(before, self), 1);
}

TEST_F(Observability, AStreamedReplyRaisesPartsTokensAndUpstreamCalls) {
  auto token = stack_->new_user_token(unique("parts"));
  std::string chat = create_chat(token)["id"];
  wait_for_quiet();
  std::string before = metrics();
  json script = {{"steps", {{{"text", "alpha beta gamma delta"}}}},
                 {"usage", {{"prompt", 11}, {"completion", 4}}},
                 {"title_usage", {{"prompt", 3}, {"completion", 2}}},
                 {"id", unique("parts")}};
  auto r = send(token, chat, "fake-openai", script_message(script));
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  auto lines = r.lines();
  ASSERT_EQ(count_prefix(lines, "d:"), 1u) << r.body;
  std::string after = metrics();
  auto delta = [&](const std::string& series) {
    return value(after, series) - value(before, series);
  };
  // Every line of the stream is one part (keep-alive lines are empty and are not parts).
  EXPECT_EQ(delta("chatd_reply_parts_total"), static_cast<double>(lines.size()));
  EXPECT_EQ(delta(R"(chatd_reply_tokens_total{kind="prompt"})"), 11);
  EXPECT_EQ(delta(R"(chatd_reply_tokens_total{kind="completion"})"), 4);
  EXPECT_EQ(delta(R"(chatd_replies_total{finish_reason="stop"})"), 1);
  // The reply's step and the chat's title, both at the fake's OpenAI endpoint. On a loaded
  // machine a call may stall before its first byte (upstream-idle-timeout 3 s) and be retried:
  // each retry is one more call, and counted as one.
  EXPECT_EQ(delta(R"(chatd_upstream_requests_total{provider="openai",status="200"})"),
            2 + delta(R"(chatd_upstream_retries_total{provider="openai"})"))
      << "before:\n"
      << upstream_lines(before) << "after:\n"
      << upstream_lines(after);
  EXPECT_EQ(delta(R"(chatd_upstream_errors_total{provider="openai",kind="status"})"), 0);
  // The ledger's figures by model: fake-openai costs 2.50 in and 10 out per million tokens, so
  // the step 11 × 2.5 + 4 × 10 = 67.5 → 68 micro-dollars, the title 7.5 + 20 → 28.
  EXPECT_EQ(delta(R"(chatd_model_calls_total{model="fake-openai",call="step"})"), 1);
  EXPECT_EQ(delta(R"(chatd_model_calls_total{model="fake-openai",call="title"})"), 1);
  EXPECT_EQ(delta(R"(chatd_model_tokens_total{model="fake-openai",kind="input"})"), 14);
  EXPECT_EQ(delta(R"(chatd_model_tokens_total{model="fake-openai",kind="output"})"), 6);
  EXPECT_NEAR(delta(R"(chatd_model_cost_dollars_total{model="fake-openai",call="step"})"), 0.000068,
              1e-12);
  EXPECT_NEAR(delta(R"(chatd_model_cost_dollars_total{model="fake-openai",call="title"})"),
              0.000028, 1e-12);
  // A live response is counted when the loop has ended it, which may be just after the client
  // read its last byte.
  const std::string posts =
      R"(chatd_http_requests_total{method="POST",route="/api/v2/chats/{chat}/messages",status="200"})";
  wait_until([&] { return value(metrics(), posts) - value(before, posts) >= 1; }, 5s);
  EXPECT_EQ(value(metrics(), posts) - value(before, posts), 1);
}

TEST_F(Observability, UpstreamErrorsAndRetriesAreCountedByProviderAndStatus) {
  auto token = stack_->new_user_token(unique("upstream"));
  wait_for_quiet();
  std::string before = metrics();
  // A 429 that is retried once, then the answer.
  std::string chat = create_chat(token)["id"];
  json script = {{"steps", {{{"text", "after a retry"}}}},
                 {"fail", {{"status", 429}, {"times", 1}, {"retry_after", "1"}}},
                 {"id", unique("retry")}};
  auto r = send(token, chat, "fake-anthropic", script_message(script));
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  ASSERT_EQ(count_prefix(r.lines(), "3:"), 0u) << r.body;
  // A key the provider refuses: an error the reply reports as a 3: part.
  std::string chat2 = create_chat(token)["id"];
  auto refused = send(token, chat2, "fake-badkey", script_message({{"id", unique("badkey")}}));
  ASSERT_EQ(refused.status, 200) << refused.error << refused.body;
  ASSERT_EQ(count_prefix(refused.lines(), "3:"), 1u) << refused.body;
  // A failed reply does not wait for its title: that call may end a moment after the stream.
  const std::string refused_calls =
      R"(chatd_upstream_requests_total{provider="openai",status="401"})";
  std::string after;
  EXPECT_TRUE(wait_until(
      [&] {
        after = metrics();
        return value(after, refused_calls) - value(before, refused_calls) >= 2;
      },
      5s, 20ms));
  auto delta = [&](const std::string& series) {
    return value(after, series) - value(before, series);
  };
  EXPECT_EQ(delta(R"(chatd_upstream_requests_total{provider="anthropic",status="429"})"), 1);
  EXPECT_EQ(delta(R"(chatd_upstream_errors_total{provider="anthropic",kind="status"})"), 1);
  EXPECT_EQ(delta(R"(chatd_upstream_retries_total{provider="anthropic"})"), 1);
  EXPECT_GE(delta(R"(chatd_upstream_requests_total{provider="anthropic",status="200"})"), 1);
  // The refused key: the reply's call and the title's.
  EXPECT_EQ(delta(refused_calls), 2);
  EXPECT_EQ(delta(R"(chatd_upstream_errors_total{provider="openai",kind="status"})"), 2);
  EXPECT_EQ(delta(R"(chatd_replies_total{finish_reason="error"})"), 1);
}

TEST_F(Observability, ToolCallsAreCountedByServer) {
  if (!stack_->mcp) GTEST_SKIP() << "node or server-everything is missing";
  auto token = stack_->new_user_token(unique("mcp"));
  std::string chat = create_chat(token)["id"];
  wait_for_quiet();
  std::string before = metrics();
  json script = {{"steps",
                  {{{"tool_calls",
                     {{{"name", "everything__echo"}, {"args", {{"message", "hi"}}}},
                      {{"name", "no_such_tool"}, {"args", json::object()}}}}},
                   {{"text", "done"}}}},
                 {"id", unique("mcp")}};
  auto r = send(token, chat, "fake-openai", script_message(script));
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  std::string after = metrics();
  auto delta = [&](const std::string& series) {
    return value(after, series) - value(before, series);
  };
  EXPECT_EQ(delta(R"(chatd_mcp_calls_total{server="everything",result="ok"})"), 1) << r.body;
  EXPECT_EQ(delta(R"(chatd_mcp_calls_total{server="unknown",result="failed"})"), 1) << r.body;
}

TEST_F(Observability, AKilledWorkerRaisesTheRestartCounter) {
  expect_two_ready_workers();
  double before = metric(kCrashRestarts);
  auto pids = real_pids();
  ASSERT_EQ(pids.size(), 2u);
  ASSERT_EQ(::kill(pids[0], SIGKILL), 0);
  EXPECT_TRUE(wait_until([&] { return metric(kCrashRestarts) == before + 1; }, 10s)) << metrics();
  expect_two_ready_workers();
  auto now = real_pids();
  EXPECT_EQ(std::find(now.begin(), now.end(), pids[0]), now.end());
  EXPECT_EQ(metric(kCrashRestarts), before + 1);
  // Counters are the master's: what was counted before the kill is still there.
  EXPECT_GT(metric(kChats200) + metric(kChats401), 0);
}

TEST_F(Observability, StatusShowsTheWorkersWithTheirPids) {
  expect_two_ready_workers();
  auto s = status();
  EXPECT_EQ(s["master_pid"], stack_->chatd->master().pid());
  EXPECT_EQ(s["workers_total"], 2);
  for (const auto& w : s["workers"]) {
    EXPECT_EQ(w["state"], "ready");
    EXPECT_EQ(w["threads"], 16);
    EXPECT_EQ(w["busy"].get<int>() + w["idle"].get<int>(), 16);
    EXPECT_GE(w["requests"].get<int>(), 0);
  }
  EXPECT_EQ(status_pids(), real_pids());

  auto printed = stack_->chatd->cli({"status", "--url", stack_->nginx->base_url()});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_NE(printed.out.find("chatd master " + std::to_string(stack_->chatd->master().pid())),
            std::string::npos)
      << printed.out;
  for (pid_t pid : real_pids()) {
    std::regex row("\n" + std::to_string(pid) + " +ready ");
    EXPECT_TRUE(std::regex_search(printed.out, row)) << pid << "\n" << printed.out;
  }
  auto as_json = stack_->chatd->cli({"status", "--url", stack_->nginx->base_url(), "--json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  EXPECT_EQ(json::parse(as_json.out)["workers"].size(), 2u);

  // Nobody listens there: a clear failure, not a hang.
  auto down = stack_->chatd->cli({"status", "--url", "http://127.0.0.1:1"});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_NE(down.err.find("cannot fetch http://127.0.0.1:1/status"), std::string::npos) << down.err;
}

TEST_F(Observability, ASlowRequestInFlightShowsItsRouteChatAndModel) {
  auto username = unique("slow");
  auto token = stack_->new_user_token(username);
  std::string chat = create_chat(token)["id"];
  json script = {{"steps", {{{"text", "one two three four five six seven eight"}}}},
                 {"token_delay_ms", 300},
                 {"id", unique("slow")}};
  StreamedResponse reply;
  std::thread client([&] { reply = send(token, chat, "fake-google", script_message(script)); });
  struct Join {
    std::thread& thread;
    ~Join() {
      if (thread.joinable()) thread.join();
    }
  } join{client};

  json seen;
  bool found = wait_until(
      [&] {
        json now = status();
        for (const auto& w : now["workers"])
          for (const auto& r : w["current"])
            if (r["chat_id"] == chat && r["model"] != "") {  // the model is known last
              seen = r;
              seen["pid"] = w["pid"];
              return true;
            }
        return false;
      },
      5s, 50ms);
  ASSERT_TRUE(found) << status().dump();
  EXPECT_EQ(seen["method"], "POST");
  EXPECT_EQ(seen["route"], "/api/v2/chats/{chat}/messages");
  EXPECT_EQ(seen["user_id"], stack_->user_id(username));
  EXPECT_EQ(seen["model"], "fake-google");
  EXPECT_EQ(seen["request_id"].get<std::string>().size(), 16u);
  auto pids = real_pids();
  EXPECT_NE(std::find(pids.begin(), pids.end(), seen["pid"].get<pid_t>()), pids.end());

  // While it runs: a reply and at least two requests (it and this one) are in flight, and
  // `chatd status` prints it.
  // (The model is known a moment before the reply starts: wait for it.)
  std::string during;
  EXPECT_TRUE(wait_until(
      [&] {
        during = metrics();
        return value(during, "chatd_replies_running") >= 1;
      },
      2s, 20ms))
      << during;
  EXPECT_GE(value(during, "chatd_http_requests_in_flight"), 2);
  auto printed = stack_->chatd->cli({"status", "--url", stack_->nginx->base_url()});
  EXPECT_NE(printed.out.find("/api/v2/chats/{chat}/messages"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find(chat), std::string::npos) << printed.out;

  client.join();
  ASSERT_EQ(reply.status, 200) << reply.error;
  // Done: gone from the scoreboard.
  EXPECT_TRUE(wait_until(
      [&] {
        json now = status();
        for (const auto& w : now["workers"])
          for (const auto& r : w["current"])
            if (r["chat_id"] == chat) return false;
        return true;
      },
      2s));
}

TEST_F(Observability, EveryResponseHasARequestIdNamingItsLogLine) {
  auto username = unique("reqid");
  auto token = stack_->new_user_token(username);
  std::set<std::string> ids;
  auto check = [&](const HttpResponse& r, const std::string& method, const std::string& route,
                   long status) {
    SCOPED_TRACE(method + " " + route);
    EXPECT_EQ(r.status, status) << r.body;
    std::string id = r.header("x-request-id");
    EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{16}"))) << "'" << id << "'";
    EXPECT_TRUE(ids.insert(id).second) << "request id used twice: " << id;
    json line = request_line(id);
    EXPECT_EQ(line["level"], status >= 500 ? "error" : "info");
    EXPECT_EQ(line["method"], method);
    EXPECT_EQ(line["route"], route);
    EXPECT_EQ(line["status"], status);
    EXPECT_TRUE(line["duration_ms"].is_number()) << line.dump();
    EXPECT_GE(line["duration_ms"].get<double>(), 0);
    EXPECT_GT(line["bytes"].get<int>(), 0);
    EXPECT_EQ(line["pid"].is_number(), true);
    return line;
  };
  auto list = check(call("GET", "/api/v2/chats", token), "GET", "/api/v2/chats", 200);
  EXPECT_EQ(list["user_id"], stack_->user_id(username));
  auto unauthorized = check(call("GET", "/api/v2/chats"), "GET", "/api/v2/chats", 401);
  EXPECT_FALSE(unauthorized.contains("user_id"));
  check(call("GET", "/api/v2/nothing-here"), "GET", "", 404);
  check(call("PUT", "/api/v2/chats", token), "PUT", "", 405);
  check(call("GET", "/healthz"), "GET", "/healthz", 200);
  check(call("GET", "/metrics"), "GET", "/metrics", 200);
  check(call("GET", "/status"), "GET", "/status", 200);
  // chatd's own 413 (its limit in the stack is 64 KiB, nginx's 4 MiB).
  check(call("POST", "/api/v2/chats", token, std::string(100 * 1024, 'x')), "POST", "", 413);

  // A streamed reply: its line has the chat, the model, the tokens and the finish reason.
  std::string chat = create_chat(token)["id"];
  json script = {{"steps", {{{"text", "logged reply"}}}},
                 {"usage", {{"prompt", 21}, {"completion", 2}}},
                 {"id", unique("logged")}};
  auto r = send(token, chat, "fake-anthropic", script_message(script));
  ASSERT_EQ(r.status, 200) << r.error;
  auto line = check(r, "POST", "/api/v2/chats/{chat}/messages", 200);
  EXPECT_EQ(line["user_id"], stack_->user_id(username));
  EXPECT_EQ(line["chat_id"], chat);
  EXPECT_EQ(line["model"], "fake-anthropic");
  EXPECT_EQ(line["prompt_tokens"], 21);
  EXPECT_EQ(line["completion_tokens"], 2);
  EXPECT_EQ(line["finish_reason"], "stop");
  EXPECT_GE(line["bytes"].get<size_t>(), r.body.size());

  // A failed reply is a warning, with the error the user saw.
  std::string chat2 = create_chat(token)["id"];
  auto failed = send(token, chat2, "fake-badkey", script_message({{"id", unique("badkey")}}));
  ASSERT_EQ(count_prefix(failed.lines(), "3:"), 1u) << failed.body;
  auto failed_line = request_line(failed.header("x-request-id"));
  EXPECT_EQ(failed_line["level"], "warn");
  EXPECT_EQ(failed_line["finish_reason"], "error");
  EXPECT_FALSE(failed_line.value("reply_error", "").empty()) << failed_line.dump();
}

TEST_F(Observability, ASaneIncomingRequestIdIsKept) {
  auto kept = http("GET", stack_->url("/healthz"), {"X-Request-Id: edge-7f3a-0001"});
  EXPECT_EQ(kept.header("x-request-id"), "edge-7f3a-0001");
  EXPECT_EQ(request_line("edge-7f3a-0001")["route"], "/healthz");
  for (const std::string& bad :
       std::vector<std::string>{"has space", "semi;colon", "quote\"d", std::string(65, 'a')}) {
    auto r = http("GET", stack_->url("/healthz"), {"X-Request-Id: " + bad});
    EXPECT_TRUE(std::regex_match(r.header("x-request-id"), std::regex("[0-9a-f]{16}")))
        << bad << " -> " << r.header("x-request-id");
  }
}

// A read authenticates in its own statement, and a reply starts in three round trips (the
// caller with the chat, the claim, the user message with the history): counted on the request
// thread and logged as db_statements.
TEST_F(Observability, AReadIsOneRoundTripAndAReplyStartsInThree) {
  auto token = stack_->new_user_token(unique("trips"));
  std::string chat = create_chat(token)["id"];
  auto statements = [&](const HttpResponse& r) {
    json line = request_line(r.header("x-request-id"));
    return line.value("db_statements", -1);
  };
  EXPECT_EQ(statements(call("GET", "/api/v2/chats", token)), 1);
  EXPECT_EQ(statements(call("GET", "/api/v2/chats/" + chat, token)), 1);
  auto reply = send(token, chat, "fake-openai", script_message({{"id", unique("trips")}}));
  ASSERT_EQ(reply.status, 200) << reply.error;
  EXPECT_EQ(statements(reply), 3);
  auto listed = call("GET", "/api/v2/chats/" + chat + "/messages", token);
  ASSERT_EQ(json::parse(listed.body).size(), 2u) << listed.body;
  EXPECT_EQ(statements(listed), 1);
  // A wrong secret: refused in the same one round trip.
  std::string wrong = token;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  auto refused = call("GET", "/api/v2/chats", wrong);
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(statements(refused), 1);
  // No database at all for a token that is not one.
  EXPECT_EQ(statements(call("GET", "/api/v2/chats", "nonsense")), 0);
  // The caller first, then the 400 of a chat id that is none.
  EXPECT_EQ(statements(call("GET", "/api/v2/chats/nonsense", token)), 1);
}

TEST_F(Observability, NoTokenKeyOrMessageTextInTheLog) {
  auto token = stack_->new_user_token(unique("secret"));
  const std::string secret = token.substr(token.find('-') + 1);
  ASSERT_GE(secret.size(), 16u);
  // The token by each of its ways in, also where it is refused.
  ASSERT_EQ(call("GET", "/api/v2/chats", token).status, 200);
  ASSERT_EQ(http("GET", stack_->url("/api/v2/chats?coder_session_token=" + token)).status, 200);
  ASSERT_EQ(
      http("GET", stack_->url("/api/v2/chats"), {"Cookie: coder_session_token=" + token}).status,
      200);
  ASSERT_EQ(http("GET", stack_->url("/api/v2/chats"), {"Authorization: Bearer " + token}).status,
            200);
  ASSERT_EQ(http("GET", stack_->url("/api/v2/nope?coder_session_token=" + token)).status, 404);
  ASSERT_EQ(call("GET", "/api/v2/chats", token + "x").status, 401);
  // A message with text no one else sends, and a reply that repeats it.
  const std::string text = "zebra" + unique("quartz") + "marmalade";
  std::string chat = create_chat(token)["id"];
  auto r =
      send(token, chat, "fake-openai",
           {{"role", "user"}, {"content", text}, {"parts", {{{"type", "text"}, {"text", text}}}}});
  ASSERT_EQ(r.status, 200) << r.error;
  ASSERT_NE(r.body.find(text), std::string::npos) << "the fake echoes the text";
  // A provider that refuses its key: the error text must not carry the key.
  std::string chat2 = create_chat(token)["id"];
  send(token, chat2, "fake-badkey", script_message({{"id", unique("key")}}));
  ASSERT_FALSE(request_line(r.header("x-request-id")).is_null());

  std::string log = read_all(stack_->chatd->log_path());
  EXPECT_EQ(log.find(secret), std::string::npos) << "a token secret is in the log";
  EXPECT_EQ(log.find(text), std::string::npos) << "message text is in the log";
  EXPECT_EQ(log.find("bad-key"), std::string::npos) << "an API key is in the log";
  EXPECT_EQ(log.find("test-key"), std::string::npos) << "an API key is in the log";
}

// A client that comes from another address than 127.0.0.1 (here 127.0.0.2, still this
// machine's loopback network but not the allowed address) gets nginx's JSON 403.
TEST_F(Observability, MetricsAndStatusAreForLoopbackOnly) {
  auto from = [&](const std::string& path) {
    HttpResponse response;
    CURL* curl = curl_easy_init();
    std::string url = stack_->url(path);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_INTERFACE, "127.0.0.2");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10'000L);
    curl_easy_setopt(
        curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t count, void* user) {
          static_cast<std::string*>(user)->append(data, size * count);
          return size * count;
        });
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
    if (curl_easy_perform(curl) == CURLE_OK)
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    curl_easy_cleanup(curl);
    return response;
  };
  auto health = from("/healthz");
  if (health.status == 0) GTEST_SKIP() << "cannot connect from 127.0.0.2 here";
  EXPECT_EQ(health.status, 200);
  for (const char* path : {"/metrics", "/status"}) {
    auto r = from(path);
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_EQ(r.body, R"({"message":"Forbidden."})") << path;
  }
  EXPECT_EQ(http("GET", stack_->url("/metrics")).status, 200);
  EXPECT_EQ(http("GET", stack_->url("/status")).status, 200);
}

}  // namespace
}  // namespace chatd::test
