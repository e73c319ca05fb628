#include "harness.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace chatd::test {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin/";

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  if (at == std::string::npos || text.find(from, at + 1) != std::string::npos)
    throw std::runtime_error("nginx/chatd.conf must contain \"" + from + "\" exactly once");
  text.replace(at, from.size(), to);
}

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t append_header(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(c));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * count;
}

std::vector<std::string> as_postgres(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  return argv;
}

// The directory of the sanitizer reports; the first call creates it and points the sanitizer
// runtimes of every process started from then on at it (they add .PID to the file name).
const std::string& sanitizer_reports_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/chatd-sanitizer-XXXXXX";
    std::string made = ::mkdtemp(tmpl);
    ::chmod(made.c_str(), 01777);  // chatd commands may run as another user
    for (const char* variable : {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"}) {
      const char* old = std::getenv(variable);
      std::string options = old && *old ? std::string(old) + ":" : "";
      ::setenv(variable, (options + "log_path=" + made + "/report").c_str(), 1);
    }
    return made;
  }();
  return dir;
}

// Set up before the first test, checked after the last one, once the stack has stopped.
class SanitizerReportCheck : public ::testing::Environment {
 public:
  void SetUp() override { sanitizer_reports_dir(); }
  void TearDown() override {
    Stack::shutdown();
    for (const auto& report : new_sanitizer_reports())
      ADD_FAILURE() << "sanitizer report of a process the tests started: " << report;
    // Kept, with what it holds, when anything was reported.
    std::error_code ec;
    fs::remove(sanitizer_reports_dir(), ec);
  }
};
[[maybe_unused]] ::testing::Environment* const kSanitizerReportCheck =
    ::testing::AddGlobalTestEnvironment(new SanitizerReportCheck);

// chatd reads the CHATD_ variables it knows and refuses the others, so the processes the tests
// start would see whatever the caller's environment holds (a developer's CHATD_DATABASE_URL,
// CHATD_TEST_QUICK of scripts/test): they get their configuration from their command line only.
class ChatdVariablesCleared : public ::testing::Environment {
 public:
  void SetUp() override {
    std::vector<std::string> names;
    for (char** entry = environ; entry && *entry; ++entry) {
      std::string_view variable(*entry);
      if (variable.starts_with("CHATD_"))
        names.emplace_back(variable.substr(0, variable.find('=')));
    }
    for (const auto& name : names) ::unsetenv(name.c_str());
  }
};
[[maybe_unused]] ::testing::Environment* const kChatdVariablesCleared =
    ::testing::AddGlobalTestEnvironment(new ChatdVariablesCleared);

}  // namespace

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<nlohmann::json> log_entries(const std::string& path) {
  std::vector<nlohmann::json> entries;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto entry = nlohmann::json::parse(line, nullptr, false);
    if (entry.is_object()) entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<std::string> new_sanitizer_reports() {
  static std::set<std::string> seen;
  std::vector<std::string> reports;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(sanitizer_reports_dir(), ec)) {
    std::string path = entry.path().string();
    if (seen.insert(path).second) reports.push_back(path + ":\n" + read_file(path));
  }
  std::sort(reports.begin(), reports.end());
  return reports;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

// The argv of execvp, built before fork: the child of a threaded program must not allocate.
std::vector<char*> exec_args(std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  return args;
}

Process::Process(std::vector<std::string> argv, std::string log_path) {
  auto args = exec_args(argv);
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::dup2(null, 0);
    ::setpgid(0, 0);
    ::execvp(args[0], args.data());
    std::perror("execvp");
    ::_exit(127);
  }
  ::close(log);
  ::close(null);
}

Process::~Process() {
  if (running()) {
    signal(SIGKILL);
    wait(5s);
  }
}

bool Process::running() {
  if (reaped_) return false;
  int status;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = status;
    return false;
  }
  return true;
}

void Process::signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

int Process::wait(std::chrono::milliseconds timeout) {
  if (!wait_until([&] { return !running(); }, timeout)) return -1;
  return status_;
}

CommandResult run_command(const std::vector<std::string>& argv) {
  char out_path[] = "/tmp/chatd-cmd-out-XXXXXX";
  char err_path[] = "/tmp/chatd-cmd-err-XXXXXX";
  int out_fd = ::mkstemp(out_path), err_fd = ::mkstemp(err_path);
  std::vector<std::string> copy = argv;
  auto args = exec_args(copy);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(out_fd);
  ::close(err_fd);
  CommandResult result{WIFEXITED(status) ? WEXITSTATUS(status) : 128, read_file(out_path),
                       read_file(err_path)};
  ::unlink(out_path);
  ::unlink(err_path);
  return result;
}

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

HttpResponse http(const std::string& method, const std::string& url,
                  const std::vector<std::string>& headers, const std::string& body,
                  std::chrono::milliseconds timeout) {
  HttpResponse response;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  // No "Expect: 100-continue" round trip for bodies.
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  else
    response.error = curl_easy_strerror(rc);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return response;
}

std::chrono::milliseconds StreamedResponse::time_to(const std::string& needle) const {
  std::string seen;
  for (const auto& chunk : chunks) {
    seen += chunk.bytes;
    if (seen.find(needle) != std::string::npos)
      return std::chrono::duration_cast<std::chrono::milliseconds>(chunk.at - sent);
  }
  return std::chrono::milliseconds::max();
}

std::vector<std::string> StreamedResponse::lines() const {
  std::vector<std::string> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(line);
  return out;
}

namespace {

struct Capture {
  StreamedResponse* response;
  std::function<bool(const std::string&)>* hang_up;
};

size_t capture_chunk(char* data, size_t size, size_t count, void* user) {
  auto* c = static_cast<Capture*>(user);
  c->response->chunks.push_back(
      {std::chrono::steady_clock::now(), std::string(data, size * count)});
  c->response->body.append(data, size * count);
  if (*c->hang_up && (*c->hang_up)(c->response->body)) return 0;
  return size * count;
}

}  // namespace

StreamedResponse http_stream(const std::string& method, const std::string& url,
                             const std::vector<std::string>& headers, const std::string& body,
                             std::chrono::milliseconds timeout,
                             std::function<bool(const std::string& body)> hang_up) {
  StreamedResponse response;
  Capture capture{&response, &hang_up};
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, capture_chunk);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &capture);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, append_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  response.sent = std::chrono::steady_clock::now();
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  else
    response.error = curl_easy_strerror(rc);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return response;
}

std::string rebuild_with_ai_sdk(const std::string& body) {
  char path[] = "/tmp/chatd-body-XXXXXX";
  int fd = ::mkstemp(path);
  ::close(fd);
  write_file(path, body);
  auto r = run_command(
      {"node", std::string(CHATD_SOURCE_DIR) + "/tests/integration/rebuild_message.mjs", path});
  ::unlink(path);
  if (r.exit_code != 0) throw std::runtime_error("node failed: " + r.err);
  return r.out;
}

FakeProvider::FakeProvider(const std::string& dir, bool log_bodies) : dir_(dir) {
  fs::create_directories(dir);
  std::string log = dir + "/fake.out";
  std::vector<std::string> argv = {FAKE_PROVIDER_BINARY, "--port", "0", "--log",
                                   dir + "/requests.log"};
  if (log_bodies) argv.push_back("--log-bodies");
  process_ = std::make_unique<Process>(argv, log);
  std::smatch m;
  bool up = wait_until(
      [&] {
        static const std::regex kListening(R"(listening on 127\.0\.0\.1:(\d+))");
        std::string text = read_file(log);
        if (!std::regex_search(text, m, kListening)) return false;
        port_ = std::stoi(m[1].str());
        return true;
      },
      10s);
  if (!up) throw std::runtime_error("fake provider did not start: " + read_file(log));
}

namespace {

std::string everything_script() {
  return std::string(CHATD_SOURCE_DIR) +
         "/tests/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
}

}  // namespace

bool EverythingMcpServer::available() {
  return fs::exists(everything_script()) && run_command({"node", "--version"}).exit_code == 0;
}

EverythingMcpServer::EverythingMcpServer(const std::string& dir) {
  fs::create_directories(dir);
  port_ = free_port();
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"env", "PORT=" + std::to_string(port_), "node", everything_script(),
                               "streamableHttp"},
      dir + "/everything.log");
  if (!wait_until([&] { return port_open(port_) || !process_->running(); }, 30s) ||
      !process_->running())
    throw std::runtime_error("server-everything did not start: " +
                             read_file(dir + "/everything.log"));
}

PostgresCluster::PostgresCluster(const std::string& dir) : dir_(dir) {
  fs::create_directories(dir_);
  passwd* pg = ::getpwnam("postgres");
  if (!pg) throw std::runtime_error("no postgres user: install the postgresql package");
  if (::chown(dir_.c_str(), pg->pw_uid, pg->pw_gid) != 0)
    throw std::runtime_error("cannot chown " + dir_);
  auto r = run_command(as_postgres({std::string(kPgBin) + "initdb", "-D", dir_ + "/data", "-A",
                                    "trust", "-U", "postgres", "--no-sync"}));
  if (r.exit_code != 0) throw std::runtime_error("initdb failed: " + r.err);
  start();
  r = run_command(as_postgres({std::string(kPgBin) + "psql", "-h", dir_, "-U", "postgres", "-d",
                               "postgres", "-c", "CREATE DATABASE chatd"}));
  if (r.exit_code != 0) throw std::runtime_error("createdb failed: " + r.err);
}

PostgresCluster::~PostgresCluster() {
  if (running_) stop();
}

void PostgresCluster::start() {
  auto r = run_command(as_postgres(
      {std::string(kPgBin) + "pg_ctl", "-D", dir_ + "/data", "-w", "-l", dir_ + "/postgres.log",
       "-o", "-k " + dir_ + " -c listen_addresses='' -c fsync=off -c max_connections=200",
       "start"}));
  if (r.exit_code != 0) throw std::runtime_error("pg_ctl start failed: " + r.out + r.err);
  running_ = true;
}

void PostgresCluster::stop() {
  run_command(as_postgres(
      {std::string(kPgBin) + "pg_ctl", "-D", dir_ + "/data", "-w", "-m", "fast", "stop"}));
  running_ = false;
}

std::string PostgresCluster::url() const { return "host=" + dir_ + " dbname=chatd user=postgres"; }

Chatd::Chatd(std::string dir, std::string database_url, std::vector<std::string> extra_args)
    : dir_(std::move(dir)),
      database_url_(std::move(database_url)),
      extra_args_(std::move(extra_args)) {}

Chatd::~Chatd() {
  if (process_ && process_->running()) stop(15s);
}

void Chatd::start() {
  std::vector<std::string> argv = {
      CHATD_BINARY,     "serve",       "--listen",      "unix:" + socket_path(),
      "--database-url", database_url_, "--socket-mode", "0666"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  process_ = std::make_unique<Process>(argv, log_path());
  // Ready when the socket exists and every worker answers (the log says "chatd ready").
  bool ready = wait_until(
      [&] {
        return !process_->running() ||
               read_file(log_path()).find("\"chatd ready\"") != std::string::npos;
      },
      20s);
  if (!ready || !process_->running())
    throw std::runtime_error("chatd did not start; log:\n" + read_file(log_path()));
}

int Chatd::stop(std::chrono::milliseconds timeout) {
  process_->signal(SIGTERM);
  int status = process_->wait(timeout);
  // Forget the "chatd ready" of this run, so that a restart waits for its own.
  fs::rename(log_path(), log_path() + "." + std::to_string(process_->pid()));
  return status;
}

std::vector<pid_t> Chatd::worker_pids() const {
  std::vector<pid_t> pids;
  std::string path = "/proc/" + std::to_string(process_->pid()) + "/task/" +
                     std::to_string(process_->pid()) + "/children";
  std::istringstream in(read_file(path));
  pid_t pid;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

CommandResult Chatd::cli(std::vector<std::string> args) const {
  args.insert(args.begin(), CHATD_BINARY);
  args.push_back("--database-url");
  args.push_back(database_url_);
  auto r = run_command(args);
  r.out = trim(r.out);
  return r;
}

Nginx::Nginx(const std::string& dir, const std::string& socket_path, const std::string& web_root)
    : dir_(dir) {
  fs::create_directories(dir_);
  port_ = free_port();
  std::string site = read_file(std::string(CHATD_SOURCE_DIR) + "/nginx/chatd.conf");
  replace_once(site, "127.0.0.1:8080", "127.0.0.1:" + std::to_string(port_));
  replace_once(site, "unix:/run/chatd/chatd.sock", "unix:" + socket_path);
  if (!web_root.empty()) replace_once(site, "/usr/share/chatd/web", web_root);
  replace_once(site, "/var/log/nginx/access.log", access_log());
  write_file(dir_ + "/site.conf", site);
  fs::copy_file("/etc/nginx/fastcgi_params", dir_ + "/fastcgi_params",
                fs::copy_options::overwrite_existing);
  std::string main_conf = "user root;\nworker_processes 1;\npid " + dir_ +
                          "/nginx.pid;\nerror_log " + dir_ +
                          "/error.log info;\nevents { worker_connections 4096; }\nhttp {\n"
                          "  include /etc/nginx/mime.types;\n";
  for (const char* temp : {"client_body", "fastcgi", "proxy", "uwsgi", "scgi"})
    main_conf += "  " + std::string(temp) + "_temp_path " + dir_ + "/" + temp + ";\n";
  main_conf += "  include " + dir_ + "/site.conf;\n}\n";
  write_file(dir_ + "/nginx.conf", main_conf);
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"nginx", "-c", dir_ + "/nginx.conf", "-g", "daemon off;"},
      dir_ + "/nginx.out");
  if (!wait_until([&] { return port_open(port_) || !process_->running(); }, 10s) ||
      !process_->running())
    throw std::runtime_error("nginx did not start: " + read_file(dir_ + "/nginx.out") +
                             read_file(dir_ + "/error.log"));
}

Nginx::~Nginx() {
  process_->signal(SIGQUIT);
  process_->wait(5s);
}

Stack::Stack() {
  char tmpl[] = "/tmp/chatd-it-XXXXXX";
  dir = ::mkdtemp(tmpl);
  ::chmod(dir.c_str(), 0755);
  fake = std::make_unique<FakeProvider>(dir + "/fake");
  std::vector<std::string> tool_sources;
  if (EverythingMcpServer::available()) {
    mcp = std::make_unique<EverythingMcpServer>(dir + "/mcp");
    // A real MCP server, and one that is down: its tools are missing, nothing else changes.
    tool_sources = {
        "--mcp-server", "name=everything;url=" + mcp->url() + ";timeout=3s", "--mcp-server",
        "name=down;url=http://127.0.0.1:" + std::to_string(free_port()) + "/mcp;timeout=2s"};
  }
  postgres = std::make_unique<PostgresCluster>(dir + "/pg");
  std::string openai = fake->url() + "/v1";
  chatd_args = {
      "--workers", "2", "--threads", "16", "--shutdown-timeout", "15s", "--max-body-size", "64KiB",
      "--upstream-idle-timeout", "3s", "--stream-keepalive", "1s", "--max-replies-per-user", "6",
      "--max-readers-per-reply", "8",
      // No test leaves a chat archived for a day but the one of retention.
      "--archived-chat-retention", "24h",
      // Every request goes through the rate limit, which the tests here never reach
      // (ratelimit_test.cpp starts instances with a small one).
      "--rate-limit", "100000/s", "--rate-burst", "100000",
      // Two of the three models priced (usage_test.cpp), one not: its calls have no cost.
      "--model-price", "model=fake-openai;input=2.50;output=10;cache-read=1.25", "--model-price",
      "model=fake-anthropic;input=3;output=15;cache-read=0.30;cache-write=3.75",
      // One model per wire format, one provider whose models are listed by the provider,
      // one whose key the provider refuses.
      "--provider", "type=openai;api-key=test-key;base-url=" + openai + ";models=fake-openai",
      "--provider",
      "type=anthropic;api-key=test-key;base-url=" + fake->url() + ";models=fake-anthropic",
      "--provider", "type=google;api-key=test-key;base-url=" + fake->url() + ";models=fake-google",
      "--provider", "type=openai;api-key=test-key;base-url=" + openai, "--provider",
      "type=openai;api-key=bad-key;base-url=" + openai + ";models=fake-badkey"};
  chatd_args.insert(chatd_args.end(), tool_sources.begin(), tool_sources.end());
  chatd = std::make_unique<Chatd>(dir, postgres->url(), chatd_args);
  chatd->start();
  nginx = std::make_unique<Nginx>(dir + "/nginx", chatd->socket_path());
}

Stack::~Stack() {
  nginx.reset();
  chatd.reset();
  postgres.reset();
  fake.reset();
  mcp.reset();
  if (!std::getenv("KEEP_TEST_DIR")) fs::remove_all(dir);
}

std::vector<std::string> with_option(std::vector<std::string> args, const std::string& option,
                                     const std::string& value) {
  auto at = std::find(args.begin(), args.end(), option);
  if (at != args.end() && at + 1 != args.end()) {
    *(at + 1) = value;
  } else {
    args.insert(args.end(), {option, value});
  }
  return args;
}

Instance::Instance(const Stack& stack, const std::string& name,
                   const std::vector<std::pair<std::string, std::string>>& options,
                   const std::string& database_url) {
  std::string dir = stack.dir + "/" + name;
  fs::create_directories(dir);
  auto args = stack.chatd_args;
  for (const auto& [option, value] : options) args = with_option(args, option, value);
  chatd = std::make_unique<Chatd>(dir, database_url.empty() ? stack.postgres->url() : database_url,
                                  args);
  chatd->start();
  nginx = std::make_unique<Nginx>(dir + "/nginx", chatd->socket_path());
}

namespace {
std::unique_ptr<Stack> the_stack;
}  // namespace

Stack& Stack::get() {
  if (!the_stack) the_stack = std::make_unique<Stack>();
  return *the_stack;
}

void Stack::shutdown() { the_stack.reset(); }

std::string Stack::new_user_token(const std::string& username, bool admin) {
  std::vector<std::string> create = {"users", "create", "--username", username};
  if (admin) create.push_back("--admin");
  auto r = chatd->cli(create);
  if (r.exit_code != 0) throw std::runtime_error("users create failed: " + r.err);
  r = chatd->cli({"tokens", "create", "--user", username});
  if (r.exit_code != 0) throw std::runtime_error("tokens create failed: " + r.err);
  return r.out;
}

std::string Stack::user_id(const std::string& username) const {
  return sql("SELECT id FROM users WHERE username = '" + username + "'").at(0).at(0);
}

std::vector<std::vector<std::string>> Stack::sql(const std::string& statement) const {
  pqxx::connection conn(postgres->url());
  pqxx::nontransaction tx(conn);
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : tx.exec(statement)) {
    std::vector<std::string> values;
    for (const auto& field : row) values.push_back(field.is_null() ? "NULL" : field.c_str());
    rows.push_back(values);
  }
  return rows;
}

}  // namespace chatd::test
