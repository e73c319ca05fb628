// The process model under stress: parallel clients, a killed worker, a reload under load, a
// database restart, and a drain on SIGTERM. Each test leaves the stack serving.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "fixture.hpp"

namespace chatd::test {
namespace {

// Clients that GET a URL in a loop until stopped, counting what does not come back 200.
class Load {
 public:
  Load(std::string url, std::string token, int clients) {
    for (int i = 0; i < clients; ++i) {
      threads_.emplace_back([this, url, token] {
        while (!stop_) {
          auto r = http("GET", url, {"Coder-Session-Token: " + token});
          std::lock_guard lock(mutex_);
          ++total_;
          if (r.status != 200)
            failures_.push_back(std::to_string(r.status) + " " + r.error + " " + r.body);
        }
      });
    }
  }
  ~Load() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  int total() {
    std::lock_guard lock(mutex_);
    return total_;
  }
  std::vector<std::string> failures() {
    std::lock_guard lock(mutex_);
    return failures_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  int total_ = 0;
  std::vector<std::string> failures_;
};

class Processes : public StackTest {
 protected:
  // Waits until `n` more requests went through the load.
  void let_run(Load& load, int n) {
    int target = load.total() + n;
    ASSERT_TRUE(wait_until([&] { return load.total() >= target; }, 20s));
  }
};

TEST_F(Processes, TwoHundredParallelRequests) {
  auto token = stack_->new_user_token(unique("parallel"));
  create_chat(token);
  std::vector<std::thread> clients;
  std::vector<HttpResponse> responses(200);
  for (size_t i = 0; i < responses.size(); ++i) {
    clients.emplace_back([&, i] {
      responses[i] = http("GET", stack_->url("/api/v2/chats"), {"Coder-Session-Token: " + token});
    });
  }
  for (auto& c : clients) c.join();
  for (const auto& r : responses) {
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_EQ(nlohmann::json::parse(r.body, nullptr, false).size(), 1u);
  }
}

TEST_F(Processes, KilledWorkerIsReplacedWithinOneSecond) {
  auto token = stack_->new_user_token(unique("kill"));
  auto before = stack_->chatd->worker_pids();
  ASSERT_EQ(before.size(), 2u);
  const int clients = 4;
  Load load(stack_->url("/api/v2/chats"), token, clients);
  let_run(load, 50);

  auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(before[0], SIGKILL), 0);
  bool replaced = wait_until(
      [&] {
        auto now = stack_->chatd->worker_pids();
        return now.size() == 2 && std::find(now.begin(), now.end(), before[0]) == now.end();
      },
      1s, 1ms);
  auto elapsed = std::chrono::steady_clock::now() - killed_at;
  EXPECT_TRUE(replaced) << "no replacement within 1 s";
  EXPECT_LT(elapsed, 1s);
  let_run(load, 200);
  load.stop();
  // Only requests the killed worker held can fail: at most one per client.
  EXPECT_LE(load.failures().size(), static_cast<size_t>(clients));
  // The survivor kept serving and the replacement serves.
  EXPECT_EQ(call("GET", "/api/v2/chats", token).status, 200);
  auto after = stack_->chatd->worker_pids();
  EXPECT_NE(std::find(after.begin(), after.end(), before[1]), after.end());
}

TEST_F(Processes, ReloadUnderLoadDropsNothing) {
  auto token = stack_->new_user_token(unique("reload"));
  auto before = stack_->chatd->worker_pids();
  ASSERT_EQ(before.size(), 2u);
  Load load(stack_->url("/api/v2/chats"), token, 6);
  let_run(load, 100);
  stack_->chatd->master().signal(SIGHUP);
  // Every worker is replaced, one at a time, while requests keep coming.
  bool replaced = wait_until(
      [&] {
        auto now = stack_->chatd->worker_pids();
        return now.size() == 2 && std::none_of(now.begin(), now.end(), [&](pid_t p) {
                 return std::find(before.begin(), before.end(), p) != before.end();
               });
      },
      20s);
  EXPECT_TRUE(replaced);
  let_run(load, 200);
  load.stop();
  EXPECT_GT(load.total(), 300);
  auto failures = load.failures();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
}

TEST_F(Processes, DatabaseRestartGives503ThenRecovers) {
  auto token = stack_->new_user_token(unique("pgdown"));
  ASSERT_EQ(call("GET", "/api/v2/chats", token).status, 200);
  stack_->postgres->stop();
  auto r = call("GET", "/api/v2/chats", token);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(r.body, R"({"message":"The database is unavailable. Please try again later."})");
  EXPECT_EQ(r.header("retry-after"), "1");
  auto health = call("GET", "/healthz");
  EXPECT_EQ(health.status, 503);
  stack_->postgres->start();
  // The workers' pooled connections died with the server; the next requests reconnect.
  EXPECT_TRUE(wait_until([&] { return call("GET", "/api/v2/chats", token).status == 200; }, 10s));
  for (int i = 0; i < 50; ++i) {
    auto again = call("GET", "/api/v2/chats", token);
    ASSERT_EQ(again.status, 200) << again.body;
  }
  EXPECT_EQ(call("GET", "/healthz").status, 200);
}

// Runs last in this file: it stops chatd, then starts it again.
TEST_F(Processes, SigtermDrainsAnInFlightRequest) {
  auto token = stack_->new_user_token(unique("drain"));
  // Hold a lock that GET /api/v2/chats must wait for: a request that is slow for real.
  pqxx::connection blocker(stack_->postgres->url());
  pqxx::work lock(blocker);
  lock.exec("LOCK TABLE chats IN ACCESS EXCLUSIVE MODE");

  HttpResponse slow;
  std::thread client([&] { slow = call("GET", "/api/v2/chats", token); });
  // The request is in flight once PostgreSQL shows a backend waiting on the lock.
  ASSERT_TRUE(wait_until(
      [&] {
        return stack_->sql(
                   "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                   "'Lock' AND query LIKE '%chats%'")[0][0] != "0";
      },
      10s));
  stack_->chatd->master().signal(SIGTERM);
  // The master waits for the request instead of exiting.
  EXPECT_FALSE(wait_until([&] { return !stack_->chatd->master().running(); }, 500ms));
  lock.commit();
  client.join();
  EXPECT_EQ(slow.status, 200) << slow.error << slow.body;
  int status = stack_->chatd->stop(20s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  stack_->chatd->start();
  EXPECT_EQ(call("GET", "/api/v2/chats", token).status, 200);
}

// workers × (db-pool-size + 1) connections that PostgreSQL would not admit are said at start
// (here 2 × 151 against the test cluster's 200 less its 3 reserved), and nothing is said when
// they fit.
TEST_F(Processes, AConnectionBudgetAboveMaxConnectionsIsSaidAtStart) {
  const std::string warning = "chatd may open more PostgreSQL connections than the server admits";
  EXPECT_EQ(read_file(stack_->chatd->log_path()).find(warning), std::string::npos);
  Instance budget(*stack_, "budget", {{"--db-pool-size", "150"}});
  std::string log = read_file(budget.chatd->log_path());
  auto at = log.find(warning);
  ASSERT_NE(at, std::string::npos) << log;
  std::string line = log.substr(at, log.find('\n', at) - at);
  EXPECT_NE(line.find("\"connections\":302"), std::string::npos) << line;
  EXPECT_NE(line.find("\"max_connections_without_reserved\":197"), std::string::npos) << line;
}

}  // namespace
}  // namespace chatd::test
