// The systemd side: the unit files pass `systemd-analyze verify`, and chatd serves on the socket
// systemd passes in (fd 3, LISTEN_FDS), ignoring --listen, behind nginx.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "fixture.hpp"

namespace chatd::test {
namespace {

namespace fs = std::filesystem;

// The program's path when it is on PATH, else empty.
std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// Symlinks that exist for the test's duration, made only where nothing is, and removed again.
class TemporaryLinks {
 public:
  TemporaryLinks() = default;
  TemporaryLinks(const TemporaryLinks&) = delete;
  TemporaryLinks& operator=(const TemporaryLinks&) = delete;
  ~TemporaryLinks() {
    for (const auto& link : created_) {
      std::error_code ec;
      fs::remove(link, ec);
    }
  }
  // Links `link` to `target` unless `link` exists already (a dangling link counts).
  void add(const fs::path& link, const fs::path& target) {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(link, ec))) return;
    fs::create_directories(link.parent_path());
    fs::create_symlink(target, link);
    created_.push_back(link);
  }

 private:
  std::vector<fs::path> created_;
};

// A scratch directory, removed at the end unless KEEP_TEST_DIR is set.
class TemporaryDir {
 public:
  TemporaryDir() {
    char tmpl[] = "/tmp/chatd-systemd-XXXXXX";
    path_ = ::mkdtemp(tmpl);
    ::chmod(path_.c_str(), 0755);
  }
  ~TemporaryDir() {
    std::error_code ec;
    if (!std::getenv("KEEP_TEST_DIR")) fs::remove_all(path_, ec);
  }
  TemporaryDir(const TemporaryDir&) = delete;
  TemporaryDir& operator=(const TemporaryDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(SystemdUnits, PassSystemdAnalyzeVerify) {
  std::string analyze = find_program("systemd-analyze");
  if (analyze.empty()) GTEST_SKIP() << "systemd-analyze is not installed";
  // verify checks that ExecStart= names an executable: the installed paths of the units.
  const fs::path chatd_link = "/usr/bin/chatd";
  const fs::path mock_link = "/usr/bin/chatd-mock-llm";
  std::error_code ec;
  bool missing = !fs::exists(fs::symlink_status(chatd_link, ec)) ||
                 !fs::exists(fs::symlink_status(mock_link, ec));
  if (missing && ::geteuid() != 0) GTEST_SKIP() << "linking the binaries into /usr/bin needs root";
  TemporaryLinks links;
  links.add(chatd_link, CHATD_BINARY);
  links.add(mock_link, FAKE_PROVIDER_BINARY);

  std::string units = std::string(CHATD_SOURCE_DIR) + "/systemd/";
  auto r = run_command({analyze, "verify", units + "chatd.service", units + "chatd.socket",
                        units + "chatd-mock-llm.service"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // Warnings (an unknown key, a bad value) do not fail verify; none may name our units.
  std::istringstream lines(r.out + r.err);
  std::string line;
  while (std::getline(lines, line))
    EXPECT_EQ(line.find("chatd"), std::string::npos) << "systemd-analyze: " << line;
}

// The exposure score README.md quotes; a hardening option removed from the unit raises it.
TEST(SystemdUnits, SecurityExposureStaysLow) {
  std::string analyze = find_program("systemd-analyze");
  if (analyze.empty()) GTEST_SKIP() << "systemd-analyze is not installed";
  auto r = run_command({analyze, "security", "--offline=yes", "--no-pager",
                        std::string(CHATD_SOURCE_DIR) + "/systemd/chatd.service"});
  const std::string marker = "Overall exposure level for chatd.service: ";
  auto at = r.out.find(marker);
  ASSERT_NE(at, std::string::npos) << r.out << r.err;
  double exposure = std::stod(r.out.substr(at + marker.size()));
  RecordProperty("exposure", std::to_string(exposure));
  EXPECT_LE(exposure, 1.3) << r.out;
}

class Systemd : public StackTest {};

TEST_F(Systemd, SocketActivationBehindNginx) {
  std::string activate = find_program("systemd-socket-activate");
  if (activate.empty())
    GTEST_SKIP() << "systemd-socket-activate is not installed (Debian: package systemd)";
  TemporaryDir dir;
  std::string socket = dir.path() + "/activated.sock";
  std::string ignored = dir.path() + "/ignored.sock";
  std::string log = dir.path() + "/chatd.log";
  auto token = stack_->new_user_token(unique("activated"));

  // systemd-socket-activate binds the socket, and on the first connection execs chatd with it
  // as fd 3 (LISTEN_FDS=1, LISTEN_PID its own pid, which chatd then has).
  Process chatd(
      {activate, "-l", socket, CHATD_BINARY, "serve", "--database-url", stack_->postgres->url(),
       "--workers", "1", "--threads", "4", "--listen", "unix:" + ignored},
      log);
  ASSERT_TRUE(wait_until([&] { return fs::exists(socket) || !chatd.running(); }, 10s))
      << read_file(log);
  ASSERT_TRUE(chatd.running()) << read_file(log);
  Nginx nginx(dir.path() + "/nginx", socket);

  // The first request starts chatd; it waits in the socket's backlog meanwhile.
  auto started = std::chrono::steady_clock::now();
  HttpResponse r;
  bool served = wait_until(
      [&] {
        r = http("GET", nginx.base_url() + "/api/v2/chats", {"Coder-Session-Token: " + token}, "",
                 20s);
        return r.status == 200 || !chatd.running();
      },
      60s, 200ms);
  auto first = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  ASSERT_TRUE(served && r.status == 200) << r.status << " " << r.error << r.body << "\n"
                                         << read_file(log);
  EXPECT_EQ(r.body, "[]");
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  RecordProperty("first_request_ms", static_cast<int>(first.count()));

  // It says where it listens once every worker is ready; --listen was not used.
  EXPECT_TRUE(
      wait_until([&] { return read_file(log).find("\"chatd ready\"") != std::string::npos; }, 10s))
      << read_file(log);
  std::string text = read_file(log);
  EXPECT_NE(text.find("\"listen\":\"systemd fd 3\""), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(ignored));
  // Still serving, and the user's chats really come from this chatd: create one, list it.
  auto created =
      http("POST", nginx.base_url() + "/api/v2/chats", {"Coder-Session-Token: " + token}, "");
  EXPECT_EQ(created.status, 201) << created.body;
  auto list = http("GET", nginx.base_url() + "/api/v2/chats", {"Coder-Session-Token: " + token});
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find(nlohmann::json::parse(created.body).value("id", "?")),
            std::string::npos);

  chatd.signal(SIGTERM);
  int status = chatd.wait(30s);
  ASSERT_NE(status, -1) << "chatd did not stop on SIGTERM\n" << read_file(log);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << read_file(log);
}

}  // namespace
}  // namespace chatd::test
