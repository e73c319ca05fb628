// FcgiResponseWriter on one end of a socket pair, nginx's end read by a decoder written from the
// FastCGI specification: the response as FCGI_STDOUT records then FCGI_END_REQUEST; a reader
// that takes nothing makes a write fail within its deadline (never hang); a closed connection
// fails at once.
#include <fcgiapp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "fcgi_records.hpp"
#include "worker/fcgi_framer.hpp"
#include "worker/fcgi_io.hpp"

namespace chatd {
namespace {

using Clock = std::chrono::steady_clock;

class FcgiResponse : public ::testing::Test {
 protected:
  void SetUp() override {
    FCGX_Init();
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds_), 0);
    FCGX_InitRequest(&raw_, -1, 0);
    raw_.ipcFd = fds_[0];  // finish() closes it, through libfcgi
    raw_.requestId = 5;
  }
  void TearDown() override {
    if (fds_[1] >= 0) ::close(fds_[1]);
  }
  // nginx's side: every byte until the END_REQUEST record (or EOF).
  std::string read_response() {
    std::string bytes;
    char buffer[65536];
    while (true) {
      // An END_REQUEST header is the last 16 bytes: 8 of header, 8 of body.
      if (bytes.size() >= 16 && static_cast<uint8_t>(bytes[bytes.size() - 15]) == fcgi::kEndRequest)
        break;
      ssize_t n = ::read(fds_[1], buffer, sizeof buffer);
      if (n <= 0) break;
      bytes.append(buffer, static_cast<size_t>(n));
    }
    return bytes;
  }
  // The FCGI_STDOUT content of `bytes`, and whether an END_REQUEST came after an empty record.
  static std::pair<std::string, bool> decode(std::string_view bytes) {
    std::string content;
    bool closed = false, ended = false;
    for (const auto& record : fcgi::testing::decode(bytes)) {
      EXPECT_EQ(record.request_id, 5);
      if (record.type == fcgi::kStdout) {
        EXPECT_FALSE(closed) << "a record after the closing one";
        closed = record.content.empty();
        content += record.content;
      } else if (record.type == fcgi::kEndRequest) {
        ended = closed;
      }
    }
    return {content, ended};
  }

  int fds_[2] = {-1, -1};
  FCGX_Request raw_{};
  base::InFlight live_;
};

TEST_F(FcgiResponse, TheResponseIsStdoutRecordsThenTheEnd) {
  FcgiResponseWriter out(raw_, live_);
  ASSERT_TRUE(out.start(200, {{"Content-Type", "text/plain"}}));
  ASSERT_TRUE(out.write("0:\"Hello\"\n"));
  ASSERT_TRUE(out.flush());
  std::string big(200'000, 'z');  // more than one record, and sent before flush()
  ASSERT_TRUE(out.write(big));
  std::thread finishing([&] { out.finish(); });
  std::string bytes = read_response();
  ::close(fds_[1]);  // as nginx does after the end: finish() waits for it
  fds_[1] = -1;
  finishing.join();
  auto [content, ended] = decode(bytes);
  EXPECT_EQ(content, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n0:\"Hello\"\n" + big);
  EXPECT_TRUE(ended);
  EXPECT_EQ(out.bytes_written(), content.size());
  EXPECT_FALSE(out.write("after the end"));
}

TEST_F(FcgiResponse, AReaderThatTakesNothingFailsTheWriteWithinItsDeadline) {
  int small = 4096;
  ::setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  FcgiResponseWriter out(raw_, live_);
  ASSERT_TRUE(out.start(200, {}));
  auto started = Clock::now();
  bool ok = true;
  // Parts of 1 KB, flushed one by one as a reply does, until one cannot be sent.
  for (int i = 0; i < 10'000 && ok; ++i) ok = out.write(std::string(1024, 'p')) && out.flush();
  auto took = Clock::now() - started;
  EXPECT_FALSE(ok) << "every write went through to a reader that took nothing";
  EXPECT_GE(took, kStalledWriteTimeout);
  EXPECT_LT(took, kStalledWriteTimeout + std::chrono::seconds(2));
  EXPECT_FALSE(out.write("x"));  // gone for good
  ::close(fds_[1]);
  fds_[1] = -1;
  out.finish();  // sends nothing more, closes
}

TEST_F(FcgiResponse, AClosedConnectionFailsAtOnce) {
  ::close(fds_[1]);
  fds_[1] = -1;
  FcgiResponseWriter out(raw_, live_);
  auto started = Clock::now();
  bool ok = out.start(200, {}) && out.flush();
  EXPECT_FALSE(ok);
  EXPECT_LT(Clock::now() - started, std::chrono::milliseconds(500));
  out.finish();
}

}  // namespace
}  // namespace chatd
