// A second chatd configured from a file: --max-requests recycling, and SIGHUP re-reading the
// file (applied when valid, refused with the old configuration kept when not).
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "fixture.hpp"

namespace chatd::test {
namespace {

class ConfigReload : public StackTest {};

size_t count_lines(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  return n;
}

TEST_F(ConfigReload, RecyclesWorkersAndReloadsTheFile) {
  std::string dir = stack_->dir + "/second";
  std::filesystem::create_directories(dir);
  std::string conf = dir + "/chatd.conf";
  std::ofstream(conf) << "workers = 1\nthreads = 4\nmax-requests = 5\n";
  Chatd second(dir, stack_->postgres->url(), {"--config", conf});
  second.start();
  Nginx nginx(dir + "/nginx", second.socket_path());
  auto token = stack_->new_user_token(unique("recycle"));

  for (int i = 0; i < 23; ++i) {
    auto r = http("GET", nginx.base_url() + "/api/v2/chats", {"Coder-Session-Token: " + token});
    ASSERT_EQ(r.status, 200) << i << " " << r.error << r.body;
  }
  // 23 requests at 5 per worker: the worker was replaced at least 4 times, and never crashed.
  // A recycled worker is logged once reaped: in a sanitizer build after its leak check, which
  // on a loaded machine takes seconds.
  EXPECT_TRUE(
      wait_until([&] { return count_lines(second.log_path(), "\"worker recycled\"") >= 4; }, 30s));
  EXPECT_EQ(count_lines(second.log_path(), "\"worker died\""), 0u);

  std::ofstream(conf) << "workers = 2\nthreads = 4\n";
  second.master().signal(SIGHUP);
  EXPECT_TRUE(
      wait_until([&] { return count_lines(second.log_path(), "\"reload complete\"") == 1; }, 10s));
  // The replaced worker goes once it has drained (and, in a sanitizer build, checked for leaks).
  EXPECT_TRUE(wait_until([&] { return second.worker_pids().size() == 2; }, 10s));

  std::ofstream(conf) << "workers = lots\n";
  second.master().signal(SIGHUP);
  EXPECT_TRUE(
      wait_until([&] { return count_lines(second.log_path(), "reload refused") == 1; }, 10s));
  EXPECT_EQ(second.worker_pids().size(), 2u);
  EXPECT_EQ(
      http("GET", nginx.base_url() + "/api/v2/chats", {"Coder-Session-Token: " + token}).status,
      200);
}

}  // namespace
}  // namespace chatd::test
