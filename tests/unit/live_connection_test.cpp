// LiveConnection, a response on the reply loop, on one end of a socket pair with a real event
// loop; nginx's end read by the FastCGI decoder: records then the end, and the log line once the
// response ended; back-pressure (behind() past 64 KiB unsent, on_ready once the reader caught
// up); a reader that takes nothing counts as gone within its deadline; a closed connection at
// once; the drain's count of open connections.
#include "worker/live_connection.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "base/event_loop.hpp"
#include "fcgi_records.hpp"
#include "worker/fcgi_io.hpp"

namespace chatd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class LiveConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    int small = 8192;  // so that a few writes fill it
    ::setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ::setsockopt(fds_[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    end_->log_with([this](const http::ResponseEnd& end, uint64_t bytes) {
      logged_ = end;
      logged_bytes_ = bytes;
    });
    live_ = std::make_unique<LiveConnection>(fds_[0], 7, "", false, end_, open_);
    live_->attach(loop_, [this] { ++ready_; });
  }
  void TearDown() override {
    live_.reset();
    ::close(fds_[1]);
  }
  // Runs the loop until `done`, 10 s at most.
  template <class Done>
  bool run_until(Done done) {
    auto deadline = Clock::now() + 10s;
    while (!done() && Clock::now() < deadline) loop_.run_once(20ms);
    return done();
  }
  // nginx's side: what is there to read now.
  std::string drain() {
    std::string bytes;
    char buffer[65536];
    ssize_t n;
    while ((n = ::recv(fds_[1], buffer, sizeof buffer, MSG_DONTWAIT)) > 0)
      bytes.append(buffer, static_cast<size_t>(n));
    return bytes;
  }

  int fds_[2] = {-1, -1};
  base::EventLoop loop_;
  base::InFlight open_;
  std::shared_ptr<RequestEnd> end_ = std::make_shared<RequestEnd>();
  std::unique_ptr<LiveConnection> live_;
  int ready_ = 0;
  std::optional<http::ResponseEnd> logged_;
  uint64_t logged_bytes_ = 0;
};

TEST_F(LiveConnectionTest, PartsGoOutAsRecordsThenTheEndAndTheLogLine) {
  ASSERT_TRUE(live_->write("0:\"Hello\"\n"));
  ASSERT_TRUE(live_->write("d:{}\n"));
  live_->finish({"stop", "", "", 3, 4});
  std::string bytes;
  ASSERT_TRUE(run_until([&] {
    bytes += drain();
    return logged_.has_value();
  }));
  bytes += drain();
  std::string content;
  bool ended = false;
  for (const auto& record : fcgi::testing::decode(bytes)) {
    EXPECT_EQ(record.request_id, 7);
    if (record.type == fcgi::kStdout) content += record.content;
    if (record.type == fcgi::kEndRequest) ended = true;
  }
  EXPECT_EQ(content, "0:\"Hello\"\nd:{}\n");
  EXPECT_TRUE(ended);
  EXPECT_EQ(logged_->finish_reason, "stop");
  EXPECT_EQ(logged_bytes_, content.size());
  EXPECT_TRUE(open_.wait_zero(Clock::now()));  // closed once all was sent
}

TEST_F(LiveConnectionTest, AReaderBehindIsSaidSoAndReadyOnceItCaughtUp) {
  std::string part(16 * 1024, 'x');
  while (!live_->behind()) ASSERT_TRUE(live_->write(part));
  EXPECT_EQ(ready_, 0);
  EXPECT_FALSE(open_.wait_zero(Clock::now()));
  ASSERT_TRUE(run_until([&] {
    drain();
    return ready_ > 0;
  }));
  EXPECT_FALSE(live_->behind());
  EXPECT_TRUE(live_->write("more\n"));
}

TEST_F(LiveConnectionTest, AReaderThatTakesNothingIsGoneWithinItsDeadline) {
  std::string part(16 * 1024, 'x');
  while (!live_->behind()) ASSERT_TRUE(live_->write(part));
  auto started = Clock::now();
  ASSERT_TRUE(run_until([&] { return !live_->write(""); }));  // an empty write sends nothing
  auto took = Clock::now() - started;
  EXPECT_GE(took, kStalledWriteTimeout);
  // 2 s, plus a second per 16 KiB of what was unsent (about 64 KiB here), plus slack.
  EXPECT_LT(took, kStalledWriteTimeout + 8s);
  EXPECT_GE(ready_, 1);  // the reply hears of it
  EXPECT_FALSE(live_->behind());
  EXPECT_TRUE(open_.wait_zero(Clock::now()));
}

TEST_F(LiveConnectionTest, AClosedConnectionIsGoneAtOnce) {
  ::shutdown(fds_[1], SHUT_RDWR);
  ASSERT_TRUE(run_until([&] { return ready_ > 0; }));
  EXPECT_FALSE(live_->write("0:\"late\"\n"));
  live_->finish({"stop", "", "", {}, {}});
  ASSERT_TRUE(logged_.has_value());  // logged at once: nothing is left to send
  EXPECT_TRUE(open_.wait_zero(Clock::now()));
}

TEST_F(LiveConnectionTest, DroppedWithoutItsEndTheResponseIsCutAndSaysSo) {
  ASSERT_TRUE(live_->write("0:\"Hel\"\n"));
  live_.reset();
  ASSERT_TRUE(logged_.has_value());
  EXPECT_EQ(logged_->failure, "the response was dropped");
  EXPECT_TRUE(open_.wait_zero(Clock::now()));
  std::string bytes = drain();
  for (const auto& record : fcgi::testing::decode(bytes))
    EXPECT_NE(record.type, fcgi::kEndRequest);  // nginx sees its upstream close, no end
}

}  // namespace
}  // namespace chatd
