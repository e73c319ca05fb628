// sql::ListenConnection against the stack's PostgreSQL: one connection carries every listener
// of a worker, a listener hears whatever is NOTIFYed once it is constructed, and a connection that
// the server kills is replaced, its listeners woken, and notifications flow again.
#include "sql/listener.hpp"

#include <thread>

#include "fixture.hpp"
#include "sql/pool.hpp"

namespace chatd::test {
namespace {

using namespace std::chrono_literals;

class Listen : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    if (IsSkipped()) return;
    name_ = unique("listen");
    connection_ = std::make_unique<sql::ListenConnection>(
        stack_->postgres->url() + " application_name=" + name_,
        [this](const std::exception&) { ++errors_; });
  }

  void notify(const std::string& channel, const std::string& payload) {
    stack_->sql("SELECT pg_notify('" + channel + "', '" + payload + "')");
  }
  int backends() {
    return std::stoi(
        stack_
            ->sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + name_ + "'")
            .at(0)
            .at(0));
  }

  std::string name_;
  std::atomic<int> errors_{0};
  std::unique_ptr<sql::ListenConnection> connection_;
};

// Waits until `listener` has heard `n` payloads in all, or 10 s.
std::vector<std::string> hear(sql::Listener& listener, size_t n) {
  std::vector<std::string> heard;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (heard.size() < n && std::chrono::steady_clock::now() < deadline)
    for (auto& payload : listener.wait(200ms)) heard.push_back(std::move(payload));
  return heard;
}

TEST_F(Listen, ManyListenersOnManyChannelsShareOneConnection) {
  std::vector<std::unique_ptr<sql::Listener>> listeners;
  for (int i = 0; i < 40; ++i)
    listeners.push_back(
        std::make_unique<sql::Listener>(*connection_, name_ + "_" + std::to_string(i % 20)));
  EXPECT_EQ(backends(), 1);
  for (int i = 0; i < 20; ++i) notify(name_ + "_" + std::to_string(i), "p" + std::to_string(i));
  for (int i = 0; i < 40; ++i) {
    auto heard = hear(*listeners[i], 1);
    EXPECT_EQ(heard, std::vector<std::string>{"p" + std::to_string(i % 20)}) << i;
  }
  // In order, and only its own channel's.
  notify(name_ + "_0", "a");
  notify(name_ + "_1", "x");
  notify(name_ + "_0", "b");
  EXPECT_EQ(hear(*listeners[0], 2), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(hear(*listeners[1], 1), std::vector<std::string>{"x"});
  EXPECT_EQ(backends(), 1);
  EXPECT_EQ(errors_.load(), 0);
}

TEST_F(Listen, AListenerLeftAloneByOthersStillHears) {
  std::string channel = name_ + "_c";
  auto first = std::make_unique<sql::Listener>(*connection_, channel);
  {
    sql::Listener second(*connection_, channel);
    notify(channel, "both");
    EXPECT_EQ(hear(second, 1), std::vector<std::string>{"both"});
  }
  // The second one's end must not UNLISTEN the channel the first still waits on.
  notify(channel, "after");
  EXPECT_EQ(hear(*first, 2), (std::vector<std::string>{"both", "after"}));
  first.reset();
  // A new listener hears what comes after it (and maybe something from just before, still on
  // its way: a listener takes a notification as a reason to look, never as the news itself).
  notify(channel, "before");
  sql::Listener third(*connection_, channel);
  notify(channel, "third");
  auto heard = hear(third, 1);
  if (heard == std::vector<std::string>{"before"}) heard = hear(third, 1);
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard.back(), "third");
}

TEST_F(Listen, AKilledConnectionIsReplacedAndItsListenersWoken) {
  std::string channel = name_ + "_k";
  sql::Listener listener(*connection_, channel);
  auto pids =
      stack_->sql("SELECT pid FROM pg_stat_activity WHERE application_name = '" + name_ + "'");
  ASSERT_EQ(pids.size(), 1u);
  stack_->sql("SELECT pg_terminate_backend(" + pids[0][0] + ")");
  // Woken without a payload (something may have been missed), well before its timeout.
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(listener.wait(20s).empty());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_TRUE(wait_until([&] { return errors_.load() >= 1; }, 10s));
  // Reconnected and LISTENing again: a notification reaches the same listener.
  ASSERT_TRUE(wait_until(
      [&] {
        notify(channel, "again");
        return !listener.wait(300ms).empty();
      },
      15s));
  EXPECT_EQ(backends(), 1);
}

TEST_F(Listen, ANewListenerFailsClearlyWhenTheDatabaseCannotBeReached) {
  sql::ListenConnection nowhere("host=/nonexistent/chatd-listen dbname=chatd", nullptr);
  auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(sql::Listener(nowhere, "chatd_nowhere"), sql::DatabaseUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 8s);
}

}  // namespace
}  // namespace chatd::test
