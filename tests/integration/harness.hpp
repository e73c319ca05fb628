// The real stack for integration tests: a throwaway PostgreSQL cluster, `chatd serve`, and
// nginx rendered from nginx/chatd.conf, all on this machine, plus an HTTP client.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace chatd::test {

using namespace std::chrono_literals;

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = 10ms);

// A child process whose output goes to a log file.
class Process {
 public:
  Process(std::vector<std::string> argv, std::string log_path);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits for the exit; returns the wait status, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

// Sanitizer reports (AddressSanitizer, LeakSanitizer, UndefinedBehaviorSanitizer) of the
// processes the tests start go to files of one directory (log_path), not to their logs: a
// worker that dies of one is restarted by the master, and one whose leak check fails on its way
// out changes nothing a test sees, so a report in a log would go unnoticed. Returns the reports
// written since the last call, each as its file name and contents. StackTest fails a test
// after which there are any, and the run ends with a check after the stack has stopped (when
// chatd's processes check for leaks). Without a sanitizer build there are never any.
std::vector<std::string> new_sanitizer_reports();

// The whole contents of a file ("" when it cannot be read).
std::string read_file(const std::string& path);

// The entries of chatd's log (one JSON object per line), lines that are not one left out.
std::vector<nlohmann::json> log_entries(const std::string& path);

// A loopback TCP port nothing listens on (at the moment of asking).
int free_port();

// Runs a command to completion; returns its exit code and what it printed on stdout.
struct CommandResult {
  int exit_code;
  std::string out;
  std::string err;
};
CommandResult run_command(const std::vector<std::string>& argv);

struct HttpResponse {
  long status = 0;  // 0: the request failed (connection refused, reset, timeout)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string error;
  std::string header(const std::string& name) const;
};

HttpResponse http(const std::string& method, const std::string& url,
                  const std::vector<std::string>& headers = {}, const std::string& body = "",
                  std::chrono::milliseconds timeout = 20s);

// A streamed response, with when each piece of the body arrived.
struct Chunk {
  std::chrono::steady_clock::time_point at;
  std::string bytes;
};
struct StreamedResponse : HttpResponse {
  std::chrono::steady_clock::time_point sent;
  std::vector<Chunk> chunks;
  // The time from sending the request until the first body byte that contains `needle`.
  std::chrono::milliseconds time_to(const std::string& needle) const;
  // The data-stream lines of the body, without empty keep-alive lines.
  std::vector<std::string> lines() const;
};
// `hang_up`, when given, is asked after every piece: true closes the connection there, as a
// client that goes away mid-reply.
StreamedResponse http_stream(const std::string& method, const std::string& url,
                             const std::vector<std::string>& headers, const std::string& body,
                             std::chrono::milliseconds timeout = 60s,
                             std::function<bool(const std::string& body)> hang_up = nullptr);

// What the real AI SDK v4 client (@ai-sdk/ui-utils) rebuilds from a data-stream body:
// {"message", "finishReason", "usage", "error", "data"}.
std::string rebuild_with_ai_sdk(const std::string& body);

class PostgresCluster {
 public:
  explicit PostgresCluster(const std::string& dir);
  ~PostgresCluster();
  void start();
  void stop();
  // libpq keyword/value connection string for the chatd database.
  std::string url() const;

 private:
  std::string dir_;
  bool running_ = false;
};

class Chatd {
 public:
  Chatd(std::string dir, std::string database_url, std::vector<std::string> extra_args);
  ~Chatd();
  void start();  // returns once /healthz answers through the socket's users
  // SIGTERM and wait; returns the wait status.
  int stop(std::chrono::milliseconds timeout = 30s);
  Process& master() { return *process_; }
  std::string socket_path() const { return dir_ + "/chatd.sock"; }
  std::vector<pid_t> worker_pids() const;
  // Runs a chatd admin command against the test database; returns its stdout, trimmed.
  CommandResult cli(std::vector<std::string> args) const;
  std::string log_path() const { return dir_ + "/chatd.log"; }

 private:
  std::string dir_;
  std::string database_url_;
  std::vector<std::string> extra_args_;
  std::unique_ptr<Process> process_;
};

class Nginx {
 public:
  // `web_root`, when given, replaces the site's web page folder (/usr/share/chatd/web).
  Nginx(const std::string& dir, const std::string& socket_path, const std::string& web_root = "");
  ~Nginx();
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // The site's access log (its `log_format chatd`).
  std::string access_log() const { return dir_ + "/access.log"; }

 private:
  std::string dir_;
  int port_;
  std::unique_ptr<Process> process_;
};

// tests/fake_provider on a free loopback port.
class FakeProvider {
 public:
  // `log_bodies`: each line of DIR/requests.log also holds the request body.
  explicit FakeProvider(const std::string& dir, bool log_bodies = false);
  int port() const { return port_; }
  std::string requests_log() const { return dir_ + "/requests.log"; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

// @modelcontextprotocol/server-everything (tests/node_modules) in streamable HTTP mode.
class EverythingMcpServer {
 public:
  explicit EverythingMcpServer(const std::string& dir);
  static bool available();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }

 private:
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

// The whole stack, started once for the test program.
class Stack {
 public:
  Stack();
  ~Stack();
  static Stack& get();
  // Stops the stack, if it was started (at the end of the run, before the last sanitizer check).
  static void shutdown();

  std::string url(const std::string& path) const { return nginx->base_url() + path; }
  // Creates a user and a token; returns the token.
  std::string new_user_token(const std::string& username, bool admin = false);
  std::string user_id(const std::string& username) const;
  // Runs SQL against the test database (for setting up and checking rows).
  std::vector<std::vector<std::string>> sql(const std::string& statement) const;

  std::string dir;
  std::unique_ptr<FakeProvider> fake;
  std::unique_ptr<EverythingMcpServer> mcp;  // null when node is missing
  std::vector<std::string> chatd_args;       // what `chatd serve` got, for a second instance
  std::unique_ptr<PostgresCluster> postgres;
  std::unique_ptr<Chatd> chatd;
  std::unique_ptr<Nginx> nginx;
};

// `args` with `option` set to `value`: the value it had is replaced, or the option added.
std::vector<std::string> with_option(std::vector<std::string> args, const std::string& option,
                                     const std::string& value);

// One more chatd master, behind an nginx of its own, on the stack's database: the stack's
// arguments with `options` set (with_option), in the stack's directory under `name`.
// `database_url` replaces the stack's (e.g. with an application_name to count connections).
struct Instance {
  Instance(const Stack& stack, const std::string& name,
           const std::vector<std::pair<std::string, std::string>>& options,
           const std::string& database_url = "");
  std::string url(const std::string& path) const { return nginx->base_url() + path; }

  std::unique_ptr<Chatd> chatd;
  std::unique_ptr<Nginx> nginx;
};

}  // namespace chatd::test
