// The reply loop (DESIGN.md "reply loop") through real nginx: replies run on their worker's
// event loop, not on a request thread each, so one worker with a handful of threads carries
// hundreds at once, and a reader that reads nothing holds up no other.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using json = nlohmann::json;

class ReplyLoop : public ReplyTest {
 protected:
  // The text of a stream's `0:` parts, and whether it ended with one `d`.
  static std::pair<std::string, bool> text_of(const StreamedResponse& r) {
    std::string text;
    bool ended = false;
    for (const auto& line : r.lines()) {
      if (line.rfind("0:", 0) == 0) text += json::parse(line.substr(2)).get<std::string>();
      ended = line.rfind("d:", 0) == 0;
    }
    return {text, ended};
  }
};

// 500 replies of about 1 s each, all at once, on one worker with 8 request threads. With a
// thread per reply they would take at least 500 / 8 × 1 s = 62 s; on the loop they overlap.
// Beside them, a client that never reads a 3 MB reply holds up none of them.
TEST_F(ReplyLoop, FiveHundredRepliesShareOneWorkerOfEightThreads) {
  Instance one(*stack_, "loop500",
               {{"--workers", "1"}, {"--threads", "8"}, {"--max-replies-per-user", "0"}});
  auto token = stack_->new_user_token(unique("loop"));
  const std::vector<std::string> auth = {"Coder-Session-Token: " + token,
                                         "Content-Type: application/json"};
  const int n = 500;
  std::vector<std::string> chats;
  for (int i = 0; i < n + 1; ++i) {
    auto r = http("POST", one.url("/api/v2/chats"), auth);
    ASSERT_EQ(r.status, 201) << r.body;
    chats.push_back(json::parse(r.body)["id"]);
  }

  // The deaf reader: its request is sent, its socket never read (a small receive buffer).
  int deaf = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(deaf, 0);
  int small = 4096;
  ::setsockopt(deaf, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(one.nginx->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string deaf_body =
      json({{"model", "fake-openai"},
            {"message", script_message({{"steps",
                                         {{{"text", std::string(1000, 'x') + " "},
                                           {"repeat", 3000},
                                           {"token_delay_ms", 0}}}}})}})
          .dump();
  std::string request =
      "POST /api/v2/chats/" + chats[n] +
      "/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nCoder-Session-Token: " + token +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(deaf_body.size()) +
      "\r\n\r\n" + deaf_body;
  ASSERT_EQ(::connect(deaf, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::send(deaf, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));

  std::vector<StreamedResponse> responses(n);
  std::vector<std::string> expected(n);
  std::vector<std::thread> clients;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    std::string words;
    for (int w = 0; w < 10; ++w) words += "r" + std::to_string(i) + "w" + std::to_string(w) + " ";
    expected[i] = words;
    clients.emplace_back([&, i, words] {
      json message = {
          {"model", kModels[i % 3]},
          {"message", script_message({{"steps", {{{"text", words}, {"token_delay_ms", 100}}}}})}};
      responses[i] = http_stream("POST", one.url("/api/v2/chats/" + chats[i] + "/messages"), auth,
                                 message.dump(), 120s);
    });
  }
  for (auto& client : clients) client.join();
  auto took = std::chrono::steady_clock::now() - started;
  ::close(deaf);

  int complete = 0;
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE("reply " + std::to_string(i));
    ASSERT_EQ(responses[i].status, 200) << responses[i].error << responses[i].body;
    auto [text, ended] = text_of(responses[i]);
    EXPECT_EQ(text, expected[i]);
    EXPECT_TRUE(ended) << responses[i].body;
    complete += text == expected[i] && ended;
  }
  EXPECT_EQ(complete, n);
  EXPECT_LT(took, 30s) << "the replies did not overlap";
  // Stored as streamed: a sample, rebuilt by the AI SDK's own client.
  for (int i : {0, n / 2, n - 1}) {
    auto stored = messages(token, chats[i]);
    ASSERT_EQ(stored.size(), 2u);
    expect_stored_as_rebuilt(responses[i], stored[1]);
  }
}

}  // namespace
}  // namespace chatd::test
