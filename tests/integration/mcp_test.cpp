// The MCP client and tool runner against real servers on loopback ports:
// @modelcontextprotocol/server-everything in streamable HTTP mode (answers in SSE streams; an
// unknown session gets a 400) and a small server on the same TypeScript SDK written out by
// this test (plain JSON answers, tools/list in pages, the spec's 404 for a forgotten session,
// a forced protocol revision, a required bearer token). Starts only these node processes,
// never the chatd stack (no Stack::get()).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "harness.hpp"
#include "llm/mcp_client.hpp"
#include "llm/mcp_tools.hpp"

namespace chatd::test {
namespace {

using json = nlohmann::json;
using llm::McpClient;
using llm::McpError;
using llm::McpServerConfig;
using llm::McpToolRunner;
using llm::ToolCallDone;
using Clock = std::chrono::steady_clock;

const std::string kNodeModules = std::string(CHATD_SOURCE_DIR) + "/tests/node_modules";
const std::string kEverything =
    kNodeModules + "/@modelcontextprotocol/server-everything/dist/index.js";
const std::string kSdk = kNodeModules + "/@modelcontextprotocol/sdk/dist/esm";

// tools/list in three pages (one name sanitizes onto another), plain JSON answers, 404 for a
// session it does not know, /forget to drop every session, FORCE_VERSION to answer initialize
// with that revision, REQUIRE_TOKEN to demand "Authorization: Bearer <token>". tools/call
// answers "<tool>:<x>:auth=<the Authorization header>".
std::string paged_server_script() {
  return R"JS(import http from "node:http";
import { randomUUID } from "node:crypto";
import { Server } from "file://SDK/server/index.js";
import { StreamableHTTPServerTransport } from "file://SDK/server/streamableHttp.js";
import { ListToolsRequestSchema, CallToolRequestSchema } from "file://SDK/types.js";

const pages = [["t0", "t1"], ["t.2", "t_2"], ["t4"]];
const transports = new Map();
function makeServer() {
  const server = new Server({ name: "paged", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async (req) => {
    const i = req.params?.cursor ? Number(req.params.cursor) : 0;
    const tools = pages[i].map((name) => ({
      name, description: "tool " + name,
      inputSchema: { type: "object", properties: { x: { type: "string" } } },
    }));
    return i + 1 < pages.length ? { tools, nextCursor: String(i + 1) } : { tools };
  });
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => ({
    content: [{ type: "text", text: req.params.name + ":" + (req.params.arguments?.x ?? "") +
                ":auth=" + (extra.requestInfo?.headers?.authorization ?? "") }],
  }));
  return server;
}
function reply(res, status, message) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message }, id: null }));
}
http.createServer(async (req, res) => {
  if (req.url === "/ready") { res.end("ready"); return; }
  if (req.url === "/forget") { transports.clear(); res.end("forgotten"); return; }
  if (process.env.REQUIRE_TOKEN &&
      req.headers.authorization !== "Bearer " + process.env.REQUIRE_TOKEN) {
    reply(res, 401, "bad token " + (req.headers.authorization ?? ""));
    return;
  }
  let body = "";
  for await (const chunk of req) body += chunk;
  const message = body ? JSON.parse(body) : undefined;
  if (process.env.FORCE_VERSION && message?.method === "initialize")
    message.params.protocolVersion = process.env.FORCE_VERSION;
  const sid = req.headers["mcp-session-id"];
  let transport = sid ? transports.get(sid) : undefined;
  if (!transport && sid) { reply(res, 404, "Session not found"); return; }
  if (!transport) {
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(), enableJsonResponse: true,
      onsessioninitialized: (id) => transports.set(id, transport),
    });
    await makeServer().connect(transport);
  }
  await transport.handleRequest(req, res, message);
}).listen(Number(process.env.PORT), "127.0.0.1");
)JS";
}

// A port that accepts connections (the kernel's backlog) and never answers.
class Blackhole {
 public:
  Blackhole() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 64);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Blackhole() { ::close(fd_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

bool have_node() {
  static const bool has = run_command({"node", "--version"}).exit_code == 0;
  return has;
}

// A node server on a loopback port that stays the same across restarts.
class NodeServer {
 public:
  NodeServer(std::vector<std::string> command, std::vector<std::string> env, std::string log,
             int port = 0)
      : command_(std::move(command)),
        env_(std::move(env)),
        log_(std::move(log)),
        port_(port ? port : free_port()) {
    start();
  }
  ~NodeServer() { stop(); }

  void start() {
    std::vector<std::string> argv = {"env", "PORT=" + std::to_string(port_)};
    argv.insert(argv.end(), env_.begin(), env_.end());
    argv.push_back("node");
    argv.insert(argv.end(), command_.begin(), command_.end());
    process_ = std::make_unique<Process>(argv, log_);
    std::string ready = "http://127.0.0.1:" + std::to_string(port_) + "/ready";
    if (!wait_until([&] { return http("GET", ready, {}, "", 1s).status != 0; }, 30s, 50ms))
      throw std::runtime_error("the MCP server did not start; see " + log_);
  }
  void stop() {
    if (!process_) return;
    process_->signal(SIGTERM);
    if (process_->wait(10s) == -1) process_->signal(SIGKILL);
    process_.reset();
  }
  void restart() {
    stop();
    start();
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }

 private:
  std::vector<std::string> command_;
  std::vector<std::string> env_;
  std::string log_;
  int port_;
  std::unique_ptr<Process> process_;
};

std::string make_dir() {
  std::string dir = "/tmp/chatd-mcp-test-XXXXXX";
  if (!::mkdtemp(dir.data())) throw std::runtime_error("mkdtemp failed");
  return dir;
}

std::string text_of(const json& content) {
  std::string out;
  for (const auto& item : content)
    if (item.value("type", "") == "text") out += item.value("text", "");
  return out;
}

std::vector<std::string> names_of(const std::vector<llm::McpTool>& tools) {
  std::vector<std::string> names;
  for (const auto& t : tools) names.push_back(t.name);
  return names;
}

std::set<std::string> names_of(const std::vector<llm::ToolSpec>& tools) {
  std::set<std::string> names;
  for (const auto& t : tools) names.insert(t.name);
  return names;
}

ToolCallDone call(std::string name, json args) {
  static int n = 0;
  return ToolCallDone{"call_" + std::to_string(++n), std::move(name), std::move(args), nullptr};
}

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// Collects on_problem lines.
struct Problems {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& line) {
      std::lock_guard lock(mutex);
      lines.push_back(line);
    };
  }
  std::vector<std::string> get() {
    std::lock_guard lock(mutex);
    return lines;
  }
};

class McpTestBase : public ::testing::Test {
 protected:
  static void make_shared_dir() {
    if (dir_.empty()) dir_ = make_dir();
  }
  static void remove_dir_if_passed() {
    auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    if (!dir_.empty() && suite && suite->failed_test_count() == 0) {
      std::filesystem::remove_all(dir_);
      dir_.clear();
    }
  }
  static McpServerConfig config(const std::string& name, const std::string& url,
                                std::chrono::milliseconds timeout = 10s) {
    McpServerConfig c;
    c.name = name;
    c.url = url;
    c.timeout = timeout;
    return c;
  }
  static inline std::string dir_;
};

// --- server-everything -----------------------------------------------------------------------

class McpEverything : public McpTestBase {
 protected:
  static void SetUpTestSuite() {
    if (!have_node() || !std::filesystem::exists(kEverything)) return;
    make_shared_dir();
    server_ = std::make_unique<NodeServer>(std::vector<std::string>{kEverything, "streamableHttp"},
                                           std::vector<std::string>{}, dir_ + "/everything.log");
  }
  static void TearDownTestSuite() {
    server_.reset();
    remove_dir_if_passed();
  }
  void SetUp() override {
    if (!have_node()) GTEST_SKIP() << "node is not installed";
    if (!server_) GTEST_SKIP() << "server-everything is not installed in tests/node_modules";
  }
  static McpServerConfig everything(std::chrono::milliseconds timeout = 10s) {
    return config("everything", server_->url(), timeout);
  }
  // Whether the runner has the server's tools (fetching them again while not): with a short
  // timeout, a loaded machine may miss the first fetch.
  static bool listed(McpToolRunner& runner) {
    return wait_until(
        [&] {
          if (names_of(runner.tools()).count("everything__echo")) return true;
          runner.refresh();
          return false;
        },
        20s);
  }
  static inline std::unique_ptr<NodeServer> server_;
};

TEST_F(McpEverything, Handshake) {
  McpClient client(everything());
  EXPECT_EQ(client.protocol_version(), "");  // lazy
  auto tools = client.list_tools();
  EXPECT_FALSE(tools.empty());
  EXPECT_EQ(client.protocol_version(), "2025-06-18");
  EXPECT_EQ(client.server_info().value("name", ""), "mcp-servers/everything");
  client.close();
  EXPECT_EQ(client.protocol_version(), "");
  EXPECT_FALSE(client.list_tools().empty());  // a new session after close()
}

TEST_F(McpEverything, ListsTools) {
  McpClient client(everything());
  auto tools = client.list_tools();
  auto names = names_of(tools);
  for (const char* expected :
       {"echo", "get-sum", "get-structured-content", "trigger-long-running-operation"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  // Needs the tasks extension, which this client does not speak.
  EXPECT_EQ(std::find(names.begin(), names.end(), "simulate-research-query"), names.end());
  auto echo = std::find_if(tools.begin(), tools.end(), [](auto& t) { return t.name == "echo"; });
  ASSERT_NE(echo, tools.end());
  EXPECT_EQ(echo->description, "Echoes back the input string");
  EXPECT_EQ(echo->input_schema["type"], "object");
  EXPECT_EQ(echo->input_schema["properties"]["message"]["type"], "string");
  EXPECT_EQ(echo->input_schema["required"], json::array({"message"}));
}

TEST_F(McpEverything, AllowList) {
  auto c = everything();
  c.allowed_tools = {"echo", "get-sum", "not-there"};
  McpClient client(c);
  EXPECT_EQ(names_of(client.list_tools()), (std::vector<std::string>{"echo", "get-sum"}));
  EXPECT_THROW(client.call_tool("get-env", json::object()), McpError);
}

TEST_F(McpEverything, CallsEchoAndGetSum) {
  McpClient client(everything());
  auto echo = client.call_tool("echo", {{"message", "hello, wörld"}});
  EXPECT_FALSE(echo.is_error);
  EXPECT_EQ(echo.content, json::parse(R"([{"type":"text","text":"Echo: hello, wörld"}])"));
  EXPECT_TRUE(echo.structured.is_null());
  auto sum = client.call_tool("get-sum", {{"a", 2}, {"b", 3.5}});
  EXPECT_FALSE(sum.is_error);
  EXPECT_EQ(text_of(sum.content), "The sum of 2 and 3.5 is 5.5.");
}

TEST_F(McpEverything, StructuredContent) {
  McpClient client(everything());
  auto r = client.call_tool("get-structured-content", {{"location", "Chicago"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.structured["temperature"], 36);
  EXPECT_EQ(json::parse(text_of(r.content)), r.structured);
}

TEST_F(McpEverything, BadArgumentsAndUnknownToolsAreErrors) {
  McpClient client(everything());
  auto bad = client.call_tool("get-sum", {{"a", "two"}});
  EXPECT_TRUE(bad.is_error);
  EXPECT_NE(text_of(bad.content).find("Invalid arguments"), std::string::npos)
      << bad.content.dump();
  // This SDK answers an unknown tool with an isError result; others use a JSON-RPC error.
  try {
    auto unknown = client.call_tool("no-such-tool", json::object());
    EXPECT_TRUE(unknown.is_error);
  } catch (const McpError& e) {
    EXPECT_NE(std::string(e.what()).find("tools/call: error"), std::string::npos) << e.what();
  }
}

TEST_F(McpEverything, SkipsProgressNotificationsInTheStream) {
  McpClient client(everything());
  auto r = client.call_tool("trigger-long-running-operation", {{"duration", 0.4}, {"steps", 4}},
                            {{"progressToken", 42}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(text_of(r.content),
            "Long running operation completed. Duration: 0.4 seconds, Steps: 4.");
}

TEST_F(McpEverything, PerCallTimeout) {
  McpClient client(everything(700ms));
  client.list_tools();  // the session is up: the timeout below is the call's alone
  auto start = Clock::now();
  try {
    client.call_tool("trigger-long-running-operation", {{"duration", 5}, {"steps", 5}});
    ADD_FAILURE() << "no timeout";
  } catch (const McpError& e) {
    EXPECT_EQ(std::string(e.what()), "everything: tools/call: timed out after 700 ms");
  }
  auto elapsed = ms_since(start);
  EXPECT_GE(elapsed, 650);
  EXPECT_LT(elapsed, 2500);  // the timeout, plus at most 1 s telling the server to cancel
  // The client is still usable.
  EXPECT_EQ(text_of(client.call_tool("echo", {{"message", "after"}}).content), "Echo: after");
}

TEST_F(McpEverything, ReinitializesAfterTheServerForgetsTheSession) {
  McpClient client(everything());
  McpToolRunner runner({everything()}, nullptr);
  EXPECT_EQ(text_of(client.call_tool("echo", {{"message", "one"}}).content), "Echo: one");
  ASSERT_TRUE(names_of(runner.tools()).count("everything__echo"));
  server_->restart();  // same port, no sessions: it answers our session id with a 400
  EXPECT_EQ(text_of(client.call_tool("echo", {{"message", "two"}}).content), "Echo: two");
  auto results = runner.run({call("everything__echo", {{"message", "three"}})});
  EXPECT_EQ(results.at(0), json::parse(R"({"content":[{"type":"text","text":"Echo: three"}]})"));
}

TEST_F(McpEverything, OneClientManyThreads) {
  McpClient client(everything());  // the first calls race to initialize
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  std::mutex mutex;
  std::vector<std::string> failures;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 3; ++i) {
        std::string m = std::to_string(t) + "/" + std::to_string(i);
        try {
          if (text_of(client.call_tool("echo", {{"message", m}}).content) == "Echo: " + m) ++ok;
        } catch (const std::exception& e) {
          std::lock_guard lock(mutex);
          failures.push_back(e.what());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 24);
  EXPECT_TRUE(failures.empty()) << failures.front();
}

TEST_F(McpEverything, RunnerExposesToolsAndMapsResults) {
  McpToolRunner runner({everything()}, nullptr);
  ASSERT_TRUE(listed(runner));
  auto tools = runner.tools();
  auto names = names_of(tools);
  ASSERT_TRUE(names.count("everything__echo"));
  ASSERT_TRUE(names.count("everything__get-sum"));
  for (const auto& t : tools) {
    EXPECT_EQ(t.name.rfind("everything__", 0), 0u) << t.name;
    EXPECT_TRUE(t.parameters.is_object()) << t.name;
  }
  auto sum = std::find_if(tools.begin(), tools.end(),
                          [](auto& t) { return t.name == "everything__get-sum"; });
  EXPECT_EQ(sum->description, "Returns the sum of two numbers");
  EXPECT_EQ(sum->parameters["properties"]["a"]["type"], "number");

  auto results =
      runner.run({call("everything__echo", {{"message", "hi"}}),
                  call("everything__get-sum", {{"a", 1}, {"b", 2}}),
                  call("everything__get-structured-content", {{"location", "Chicago"}}),
                  call("everything__get-sum", {{"a", "x"}}), call("nope__nothing", json::object()),
                  call("everything__echo", json::array())});
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(results[0], json::parse(R"({"content":[{"type":"text","text":"Echo: hi"}]})"));
  EXPECT_EQ(text_of(results[1]["content"]), "The sum of 1 and 2 is 3.");
  EXPECT_EQ(results[2]["structuredContent"]["conditions"], "Light rain / drizzle");
  EXPECT_EQ(results[3]["isError"], true);
  EXPECT_EQ(results[4], (json{{"error", "unknown tool \"nope__nothing\""}}));
  EXPECT_TRUE(results[5].contains("error")) << results[5].dump();
}

TEST_F(McpEverything, RunnerRunsAStepsCallsConcurrently) {
  McpToolRunner runner({everything()}, nullptr);
  ASSERT_TRUE(listed(runner));
  auto slow = [] {
    return call("everything__trigger-long-running-operation", {{"duration", 1.5}, {"steps", 1}});
  };
  auto start = Clock::now();
  auto results = runner.run({slow(), slow(), call("everything__echo", {{"message", "quick"}})});
  auto elapsed = ms_since(start);
  for (const auto& r : results) EXPECT_FALSE(r.contains("error")) << r.dump();
  EXPECT_EQ(text_of(results[2]["content"]), "Echo: quick");
  EXPECT_GE(elapsed, 1400);
  EXPECT_LT(elapsed, 2600) << "the calls ran one after the other (3 s)";
}

TEST_F(McpEverything, RunnerTimeoutIsAnErrorResult) {
  McpToolRunner runner({everything(500ms)}, nullptr);
  ASSERT_TRUE(listed(runner));
  auto start = Clock::now();
  auto results = runner.run(
      {call("everything__trigger-long-running-operation", {{"duration", 3}, {"steps", 3}}),
       call("everything__echo", {{"message", "fine"}})});
  EXPECT_LT(ms_since(start), 2500);
  EXPECT_EQ(results[0], (json{{"error", "everything: tools/call: timed out after 500 ms"}}));
  EXPECT_EQ(text_of(results[1]["content"]), "Echo: fine");
}

TEST_F(McpEverything, RunnerTruncatesLargeResults) {
  McpToolRunner runner({everything()}, nullptr, McpToolRunner::kDefaultTtl, 300);
  ASSERT_TRUE(listed(runner));
  std::string message(2000, 'm');
  auto r = runner.run({call("everything__echo", {{"message", message}})}).at(0);
  EXPECT_LE(r.dump().size(), 300u);
  ASSERT_EQ(r["content"].size(), 2u) << r.dump();
  EXPECT_EQ(r["content"][0]["text"].get<std::string>().rfind("Echo: mmm", 0), 0u);
  EXPECT_EQ(r["content"][1]["text"].get<std::string>().rfind("[truncated: ", 0), 0u);
}

TEST_F(McpEverything, DownServerIsSkippedUntilItIsBack) {
  Problems problems;
  int down_port = free_port();
  auto down = config("down", "http://127.0.0.1:" + std::to_string(down_port) + "/mcp", 3s);
  down.headers = {"Authorization: Bearer sekrit-token-123"};
  McpToolRunner runner({down, everything()}, problems.sink(), /*ttl=*/200ms);
  auto start = Clock::now();
  auto names = names_of(runner.tools());
  EXPECT_LT(ms_since(start), 2000);
  EXPECT_TRUE(names.count("everything__echo"));
  for (const auto& n : names) EXPECT_EQ(n.rfind("everything__", 0), 0u) << n;
  // tools() returned as soon as "everything" answered; the failure is reported when the
  // fetch ends.
  ASSERT_TRUE(wait_until([&] { return !problems.get().empty(); }, 2s));
  auto lines = problems.get();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"down\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("cannot connect"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("sekrit"), std::string::npos) << lines[0];
  EXPECT_EQ(runner.run({call("down__echo", {{"message", "x"}})}).at(0),
            (json{{"error", "unknown tool \"down__echo\""}}));

  // Still down at the next refreshes: logged once, not again.
  std::this_thread::sleep_for(500ms);
  runner.tools();
  std::this_thread::sleep_for(300ms);
  runner.tools();
  EXPECT_EQ(problems.get().size(), 1u);

  // It comes up: a background refresh picks its tools up.
  NodeServer back({kEverything, "streamableHttp"}, {}, dir_ + "/back.log", down_port);
  EXPECT_TRUE(
      wait_until([&] { return names_of(runner.tools()).count("down__echo") > 0; }, 15s, 100ms));
  lines = problems.get();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("\"down\" is back"), std::string::npos) << lines[1];
  EXPECT_EQ(text_of(runner.run({call("down__echo", {{"message", "x"}})}).at(0)["content"]),
            "Echo: x");
}

TEST_F(McpEverything, RefreshOfAHungServerNeverBlocksTools) {
  Blackhole hung;
  Problems problems;
  McpToolRunner runner({config("hung", hung.url(), 2s), everything()}, problems.sink(),
                       /*ttl=*/100ms);
  auto start = Clock::now();
  runner.refresh();  // the servers in parallel: the hung one's timeout, once
  auto elapsed = ms_since(start);
  EXPECT_GE(elapsed, 1900);
  EXPECT_LT(elapsed, 3500);
  ASSERT_EQ(problems.get().size(), 1u);
  EXPECT_NE(problems.get()[0].find("timed out"), std::string::npos) << problems.get()[0];
  std::this_thread::sleep_for(150ms);
  // Due now: each call starts (at most) one background refresh that takes 2 s, and returns
  // the current list at once.
  long long slowest = 0;
  for (int i = 0; i < 20; ++i) {
    auto t = Clock::now();
    EXPECT_TRUE(names_of(runner.tools()).count("everything__echo"));
    slowest = std::max(slowest, ms_since(t));
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_LT(slowest, 200);
}

TEST_F(McpEverything, FirstListDoesNotWaitForAHungServer) {
  Blackhole hung;
  Problems problems;
  McpToolRunner runner({config("hung", hung.url(), 4s), everything()}, problems.sink());
  auto start = Clock::now();
  auto names = names_of(runner.tools());  // no refresh() before: this call starts the fetch
  EXPECT_LT(ms_since(start), 1500);
  EXPECT_TRUE(names.count("everything__echo"));
  EXPECT_EQ(
      text_of(runner.run({call("everything__echo", {{"message", "early"}})}).at(0)["content"]),
      "Echo: early");
  EXPECT_TRUE(problems.get().empty());
  // The fetch ends with the hung server's timeout, which is reported once.
  EXPECT_TRUE(wait_until([&] { return problems.get().size() == 1; }, 8s, 50ms));
  EXPECT_NE(problems.get().at(0).find("\"hung\" is unavailable"), std::string::npos);
  EXPECT_TRUE(names_of(runner.tools()).count("everything__echo"));
}

TEST_F(McpEverything, NoServerAnswersYet) {
  Blackhole hung;
  Problems problems;
  auto start = Clock::now();
  {
    McpToolRunner runner({config("hung", hung.url(), 10s)}, problems.sink());
    EXPECT_TRUE(runner.tools().empty());
    auto waited = ms_since(start);
    EXPECT_GE(waited, 1900);  // kFirstListWait
    EXPECT_LT(waited, 3000);
    EXPECT_EQ(runner.run({call("hung__x", json::object())}).at(0),
              (json{{"error", "unknown tool \"hung__x\""}}));
    EXPECT_LT(ms_since(start), 3000);  // run() does not wait again
    start = Clock::now();
  }  // the destructor aborts the fetch in flight instead of waiting 10 s
  EXPECT_LT(ms_since(start), 1000);
  EXPECT_TRUE(problems.get().empty());  // and reports nothing about it
}

// --- the paging server on the same SDK --------------------------------------------------------

class McpPaged : public McpTestBase {
 protected:
  static void SetUpTestSuite() {
    if (!have_node()) return;
    make_shared_dir();
    std::string text = paged_server_script();
    for (auto at = text.find("SDK/"); at != std::string::npos; at = text.find("SDK/", at)) {
      text.replace(at, 3, kSdk);
      at += kSdk.size();
    }
    script_ = dir_ + "/paged.mjs";
    std::ofstream(script_) << text;
  }
  static void TearDownTestSuite() { remove_dir_if_passed(); }
  void SetUp() override {
    if (!have_node()) GTEST_SKIP() << "node is not installed";
    if (!std::filesystem::exists(kSdk)) GTEST_SKIP() << "the MCP SDK is not in tests/node_modules";
  }
  std::unique_ptr<NodeServer> start(std::vector<std::string> env = {}) {
    static int n = 0;
    return std::make_unique<NodeServer>(std::vector<std::string>{script_}, std::move(env),
                                        dir_ + "/paged" + std::to_string(++n) + ".log");
  }
  static inline std::string script_;
};

TEST_F(McpPaged, FollowsCursorsOverPlainJson) {
  auto server = start();
  McpClient client(config("paged", server->url()));
  EXPECT_EQ(names_of(client.list_tools()),
            (std::vector<std::string>{"t0", "t1", "t.2", "t_2", "t4"}));
  EXPECT_EQ(client.protocol_version(), "2025-06-18");
  EXPECT_EQ(text_of(client.call_tool("t4", {{"x", "y"}}).content), "t4:y:auth=");

  McpToolRunner runner({config("paged", server->url())}, nullptr);
  std::vector<std::string> exposed;
  for (const auto& t : runner.tools()) exposed.push_back(t.name);
  ASSERT_EQ(exposed.size(), 5u);
  EXPECT_EQ(exposed[3], "paged__t_2");  // the real one keeps the plain name
  EXPECT_TRUE(std::regex_match(exposed[2], std::regex("^paged__t_2_[0-9a-f]{8}$"))) << exposed[2];
  auto results = runner.run({call(exposed[2], {{"x", "dot"}}), call(exposed[3], {{"x", "us"}})});
  EXPECT_EQ(text_of(results[0]["content"]), "t.2:dot:auth=");
  EXPECT_EQ(text_of(results[1]["content"]), "t_2:us:auth=");
}

TEST_F(McpPaged, SessionNotFoundReinitializesOnce) {
  auto server = start();
  McpClient client(config("paged", server->url()));
  EXPECT_EQ(text_of(client.call_tool("t0", {{"x", "1"}}).content), "t0:1:auth=");
  ASSERT_EQ(http("GET", "http://127.0.0.1:" + std::to_string(server->port()) + "/forget").status,
            200);
  EXPECT_EQ(text_of(client.call_tool("t0", {{"x", "2"}}).content), "t0:2:auth=");
  EXPECT_EQ(client.list_tools().size(), 5u);
}

TEST_F(McpPaged, AcceptsRevision20250326) {
  auto server = start({"FORCE_VERSION=2025-03-26"});
  McpClient client(config("paged", server->url()));
  EXPECT_EQ(text_of(client.call_tool("t1", {{"x", "old"}}).content), "t1:old:auth=");
  EXPECT_EQ(client.protocol_version(), "2025-03-26");
}

TEST_F(McpPaged, RejectsAnUnsupportedRevision) {
  auto server = start({"FORCE_VERSION=2024-11-05"});
  McpClient client(config("paged", server->url()));
  try {
    client.list_tools();
    ADD_FAILURE() << "accepted 2024-11-05";
  } catch (const McpError& e) {
    EXPECT_EQ(std::string(e.what()),
              "paged: initialize: unsupported protocol version \"2024-11-05\"");
  }
}

TEST_F(McpPaged, SendsConfiguredHeadersAndNeverShowsThem) {
  auto server = start({"REQUIRE_TOKEN=sekrit-token-123"});
  auto good = config("paged", server->url());
  good.headers = {"Authorization: Bearer sekrit-token-123", "X-Extra: 1"};
  McpClient client(good);
  EXPECT_EQ(text_of(client.call_tool("t0", {{"x", "a"}}).content),
            "t0:a:auth=Bearer sekrit-token-123");

  // A wrong token: the server's error echoes it; ours must not.
  auto bad = config("paged", server->url());
  bad.headers = {"Authorization: Bearer wrong-token-456"};
  McpClient rejected(bad);
  try {
    rejected.list_tools();
    ADD_FAILURE() << "no error";
  } catch (const McpError& e) {
    std::string what = e.what();
    EXPECT_EQ(what, "paged: initialize: HTTP 401 (unauthorized)");
    EXPECT_EQ(what.find("wrong-token"), std::string::npos) << what;
  }
}

TEST(McpErrors, DownServerErrorNamesTheServerOnly) {
  // Nothing listens on the port: the error names the server, never a header value or the URL.
  McpServerConfig c;
  c.name = "down";
  c.url = "http://127.0.0.1:" + std::to_string(free_port()) + "/mcp?key=url-secret";
  c.headers = {"Authorization: Bearer sekrit-token"};
  c.timeout = 2s;
  McpClient client(c);
  try {
    client.list_tools();
    ADD_FAILURE() << "no error";
  } catch (const McpError& e) {
    EXPECT_EQ(std::string(e.what()), "down: initialize: cannot connect");
  }
  McpToolRunner runner({c}, nullptr);
  EXPECT_TRUE(runner.tools().empty());
  EXPECT_EQ(runner.run({call("down__x", json::object())}).at(0),
            (json{{"error", "unknown tool \"down__x\""}}));
}

}  // namespace
}  // namespace chatd::test
