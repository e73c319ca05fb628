// The per-user request rate (README "Limits"): counted in PostgreSQL, so two chatd instances
// (two masters, each behind its own nginx, on the shared database) spend one budget per user.
// Both run with --rate-limit 6/m --rate-burst 3: three requests at once, then one every 10 s.
// Time passing is simulated by moving the user's row back, so no test waits for a refill.
#include <thread>

#include "fixture.hpp"

namespace chatd::test {
namespace {

constexpr const char* kRefused = "Rate limit exceeded: too many requests. Try again later.";

class RateLimit : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    if (IsSkipped()) return;
    for (const char* name : {"rate-c", "rate-d"})
      if (!instances_.count(name))
        instances_.emplace(
            name, std::make_unique<Instance>(*stack_, name,
                                             std::vector<std::pair<std::string, std::string>>{
                                                 {"--rate-limit", "6/m"}, {"--rate-burst", "3"}}));
  }
  static void TearDownTestSuite() { instances_.clear(); }

  HttpResponse get_chats(const std::string& instance, const std::string& token) {
    return http("GET", instances_.at(instance)->url("/api/v2/chats"),
                {"Coder-Session-Token: " + token});
  }

  // Shifts the user's budget as if `seconds` had passed.
  void let_time_pass(const std::string& username, int seconds) {
    stack_->sql("UPDATE rate_limits SET tat = tat - interval '" + std::to_string(seconds) +
                " seconds' WHERE user_id = '" + stack_->user_id(username) + "'");
  }

  static void expect_refused(const HttpResponse& r) {
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_EQ(body.value("message", ""), kRefused) << r.body;
    // One request every 10 s: the next is admitted 9 to 10 s from now (rounded up).
    auto retry = r.header("retry-after");
    EXPECT_TRUE(retry == "9" || retry == "10") << "Retry-After: " << retry;
  }

  static std::map<std::string, std::unique_ptr<Instance>> instances_;
};

std::map<std::string, std::unique_ptr<Instance>> RateLimit::instances_;

TEST_F(RateLimit, BurstThenRefusedWithRetryAfter) {
  std::string token = stack_->new_user_token(unique("rate"));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get_chats("rate-c", token).status, 200) << i;
  expect_refused(get_chats("rate-c", token));
  expect_refused(get_chats("rate-c", token));
}

TEST_F(RateLimit, OneBudgetAcrossInstances) {
  std::string token = stack_->new_user_token(unique("rate"));
  EXPECT_EQ(get_chats("rate-c", token).status, 200);
  EXPECT_EQ(get_chats("rate-d", token).status, 200);
  EXPECT_EQ(get_chats("rate-c", token).status, 200);
  expect_refused(get_chats("rate-d", token));
  expect_refused(get_chats("rate-c", token));
}

TEST_F(RateLimit, RefillsAtTheRate) {
  std::string user = unique("rate");
  std::string token = stack_->new_user_token(user);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(get_chats("rate-c", token).status, 200) << i;
  expect_refused(get_chats("rate-c", token));
  let_time_pass(user, 10);  // one interval: one request
  EXPECT_EQ(get_chats("rate-c", token).status, 200);
  expect_refused(get_chats("rate-c", token));
  let_time_pass(user, 3600);  // a quiet spell: the whole burst, no more
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get_chats("rate-d", token).status, 200) << i;
  expect_refused(get_chats("rate-d", token));
}

TEST_F(RateLimit, RefusedRequestsChangeNothing) {
  std::string user = unique("rate");
  std::string token = stack_->new_user_token(user);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(get_chats("rate-c", token).status, 200) << i;
  auto r = http("POST", instances_.at("rate-c")->url("/api/v2/chats"),
                {"Coder-Session-Token: " + token});
  expect_refused(r);
  EXPECT_EQ(stack_->sql("SELECT count(*) FROM chats WHERE owner_id = '" + stack_->user_id(user) +
                        "'")[0][0],
            "0");
}

TEST_F(RateLimit, OtherUsersAreNotAffected) {
  std::string first = stack_->new_user_token(unique("rate"));
  std::string second = stack_->new_user_token(unique("rate"));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(get_chats("rate-c", first).status, 200) << i;
  expect_refused(get_chats("rate-c", first));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get_chats("rate-c", second).status, 200) << i;
}

TEST_F(RateLimit, FailedAuthenticationSpendsNothing) {
  std::string user = unique("rate");
  std::string token = stack_->new_user_token(user);
  std::string wrong = token.substr(0, token.find('-') + 1) + std::string(22, 'x');
  for (int i = 0; i < 5; ++i) {
    auto r = get_chats("rate-c", wrong);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_NE(r.body.find("API key secret is invalid."), std::string::npos) << r.body;
  }
  EXPECT_EQ(stack_->sql("SELECT count(*) FROM rate_limits WHERE user_id = '" +
                        stack_->user_id(user) + "'")[0][0],
            "0");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(get_chats("rate-c", token).status, 200) << i;
}

TEST_F(RateLimit, ConcurrentRequestsAreCountedExactly) {
  // 12 requests at once through both instances (each has two workers): exactly the burst.
  std::string token = stack_->new_user_token(unique("rate"));
  std::vector<std::thread> threads;
  std::atomic<int> admitted{0}, refused{0}, other{0};
  for (int i = 0; i < 12; ++i)
    threads.emplace_back([&, i] {
      long status = get_chats(i % 2 ? "rate-c" : "rate-d", token).status;
      (status == 200 ? admitted : status == 429 ? refused : other)++;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 3);
  EXPECT_EQ(refused.load(), 9);
  EXPECT_EQ(other.load(), 0);
}

}  // namespace
}  // namespace chatd::test
