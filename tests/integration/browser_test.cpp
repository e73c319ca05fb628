// The chat web page end to end: tests/browser/e2e.mjs drives headless Chromium (Debian's, through
// playwright-core) against a second nginx that serves web/dist, the build of web/, in front of
// the shared stack (chatd, PostgreSQL, the fake provider, the MCP server "everything").
//
// Runs as its own ctest test, `browser`. Skipped when Chromium, web/dist or playwright-core is
// missing; scripts/install-deps installs the first and the last, scripts/test builds web/dist.
// Screenshots go to artifacts/ beside the test binary (build/tests/artifacts/main-view.png).
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <iostream>

#include "fixture.hpp"

namespace chatd::test {
namespace {

namespace fs = std::filesystem;

const std::string kSource = CHATD_SOURCE_DIR;
constexpr const char* kChromium = "/usr/bin/chromium";

std::string artifacts_dir() {
  return (fs::read_symlink("/proc/self/exe").parent_path() / "artifacts").string();
}

class Browser : public StackTest {};

TEST_F(Browser, EndToEnd) {
  if (!fs::exists(kChromium))
    GTEST_SKIP() << kChromium << " is missing: scripts/install-deps installs Debian's chromium";
  if (!fs::exists(kSource + "/web/dist/index.html"))
    GTEST_SKIP() << "web/dist is not built: run scripts/build-web (scripts/test does)";
  if (!fs::exists(kSource + "/tests/node_modules/playwright-core/package.json"))
    GTEST_SKIP() << "playwright-core is missing: run scripts/install-deps";

  Nginx web(stack_->dir + "/nginx-web", stack_->chatd->socket_path(), kSource + "/web/dist");
  std::string token = stack_->new_user_token(unique("browser"));
  std::string artifacts = artifacts_dir();
  fs::create_directories(artifacts);
  // Only this run's screenshots stay (main-view*.png, and failed-N.png for a failed test).
  for (const auto& entry : fs::directory_iterator(artifacts))
    if (entry.path().extension() == ".png") fs::remove(entry.path());

  std::vector<std::string> argv = {"node", kSource + "/tests/browser/e2e.mjs", web.base_url(),
                                   token, artifacts};
  if (stack_->mcp) argv.push_back("--mcp");
  std::string budgeted = unique("budgeted");
  argv.push_back("--budgeted=" + stack_->new_user_token(budgeted));
  auto budget = stack_->chatd->cli({"users", "budget", budgeted, "period=day;limit-usd=0.0001"});
  ASSERT_EQ(budget.exit_code, 0) << budget.err;
  std::string log = stack_->dir + "/browser.log";
  Process node(argv, log);
  int status = node.wait(300s);
  if (status == -1) {
    // Playwright closes the browser on SIGTERM; SIGKILL only if that does not end it.
    node.signal(SIGTERM);
    if (node.wait(10s) == -1) {
      node.signal(SIGKILL);
      node.wait(5s);
    }
  }
  std::string out = read_file(log);
  std::cout << out << std::flush;
  ASSERT_NE(status, -1) << "tests/browser/e2e.mjs did not finish within 300 s";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "e2e.mjs failed:\n" << out;
  EXPECT_EQ(out.find("not ok"), std::string::npos);
  EXPECT_NE(out.find(" passed, 0 failed"), std::string::npos);
  EXPECT_TRUE(fs::exists(artifacts + "/main-view.png")) << "the screenshot of the main view";
}

}  // namespace
}  // namespace chatd::test
