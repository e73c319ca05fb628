// llm::HttpClient, the reply loop's HTTP, against the fake provider on loopback: streams on one
// loop thread, many at once; back-pressure (a full reader pauses its transfer and gets the same
// bytes again after resume, without it counting as idle); the idle timeout; errors; abort.
#include "llm/http_client.hpp"

#include "fixture.hpp"
#include "llm/provider_registry.hpp"

namespace chatd::test {
namespace {

using nlohmann::json;
using Take = llm::HttpClient::Take;

class LoopHttp : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    if (IsSkipped()) return;
    provider_ =
        llm::make_provider({"openai", "test-key", stack_->fake->url() + "/v1", {"fake-openai"}});
  }

  // The provider's own request for a user message that scripts the fake.
  llm::HttpCall call(const json& script) const {
    llm::ModelRequest request;
    request.model = "fake-openai";
    request.messages =
        json::array({{{"role", "user"}, {"content", "Hi\nSCRIPT " + script.dump()}}});
    return provider_->stream_call(request);
  }
  static json words(int n, int delay_ms = 0) {
    std::string text;
    for (int i = 0; i < n; ++i) text += "w" + std::to_string(i) + " ";
    return {{"steps", {{{"text", text}, {"token_delay_ms", delay_ms}}}}};
  }
  // Runs the loop until `done` or `timeout`; false on timeout.
  template <class Done>
  bool run_until(Done done, std::chrono::milliseconds timeout = 20s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      loop_.run_once(50ms);
    }
    return true;
  }
  // The text the model streamed, from its SSE body.
  static std::string streamed_text(const std::string& body) {
    std::string text;
    for (size_t at = body.find("data: {"); at != std::string::npos;
         at = body.find("data: {", at + 1)) {
      auto chunk = json::parse(body.substr(at + 6, body.find('\n', at) - at - 6), nullptr, false);
      if (chunk.is_discarded() || chunk["choices"].empty()) continue;
      const json& delta = chunk["choices"][0]["delta"];
      if (delta.contains("content") && delta["content"].is_string())
        text += delta["content"].get<std::string>();
    }
    return text;
  }

  base::EventLoop loop_;
  std::unique_ptr<llm::Provider> provider_;
};

TEST_F(LoopHttp, AStreamArrivesWholeAndEndsOnce) {
  llm::HttpClient client(loop_, {});
  std::string body;
  int done = 0;
  llm::HttpResult result;
  client.start(call(words(50)), {[&](std::string_view bytes) {
                                   body += bytes;
                                   return Take::kTaken;
                                 },
                                 [&](llm::HttpResult r) {
                                   ++done;
                                   result = std::move(r);
                                 }});
  EXPECT_EQ(done, 0) << "on_done from inside start()";
  ASSERT_TRUE(run_until([&] { return done > 0; }));
  loop_.run_once(50ms);
  EXPECT_EQ(done, 1);
  EXPECT_EQ(result.status, 200);
  EXPECT_TRUE(result.error.empty()) << result.error;
  EXPECT_EQ(streamed_text(body), words(50)["steps"][0]["text"]);
  EXPECT_EQ(client.running(), 0u);
}

TEST_F(LoopHttp, TwoHundredStreamsRunOnOneThread) {
  llm::HttpClient client(loop_, {});
  constexpr int kStreams = 200;
  std::vector<std::string> bodies(kStreams);
  std::vector<long> statuses(kStreams, -1);
  int done = 0;
  for (int i = 0; i < kStreams; ++i)
    client.start(call(words(20, 20)), {[&, i](std::string_view bytes) {
                                         bodies[i] += bytes;
                                         return Take::kTaken;
                                       },
                                       [&, i](llm::HttpResult r) {
                                         statuses[i] = r.status;
                                         ++done;
                                       }});
  EXPECT_EQ(client.running(), static_cast<size_t>(kStreams));
  // Spread over multi handles of 64 transfers each (libcurl walks a handle's every connection
  // at each start and end).
  size_t shards =
      (kStreams + llm::HttpClient::kTransfersPerMulti - 1) / llm::HttpClient::kTransfersPerMulti;
  EXPECT_EQ(client.shards(), shards);
  ASSERT_TRUE(run_until([&] { return done == kStreams; }, 60s)) << done;
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_EQ(statuses[i], 200) << i;
    EXPECT_EQ(streamed_text(bodies[i]), words(20)["steps"][0]["text"]) << i;
  }
  // The next wave runs on the same handles (and their idle connections).
  done = 0;
  for (int i = 0; i < kStreams; ++i)
    client.start(call(words(5)), {nullptr, [&](llm::HttpResult r) {
                                    EXPECT_EQ(r.status, 200);
                                    ++done;
                                  }});
  ASSERT_TRUE(run_until([&] { return done == kStreams; }, 60s)) << done;
  EXPECT_EQ(client.shards(), shards);
}

TEST_F(LoopHttp, AFullReaderPausesTheTransferAndGetsTheSameBytesAfterResume) {
  // A 1 s idle timeout: the pause lasts longer, and must not count as the provider's silence.
  llm::HttpClient client(loop_, {std::chrono::seconds(10), std::chrono::seconds(1)});
  std::string body;
  std::string refused;
  bool full = true;
  int done = 0;
  llm::HttpResult result;
  llm::HttpClient::Id id = client.start(call(words(30)), {[&](std::string_view bytes) {
                                                            if (full) {
                                                              refused = bytes;
                                                              return Take::kFull;
                                                            }
                                                            body += bytes;
                                                            return Take::kTaken;
                                                          },
                                                          [&](llm::HttpResult r) {
                                                            ++done;
                                                            result = std::move(r);
                                                          }});
  ASSERT_TRUE(run_until([&] { return !refused.empty(); }));
  // Paused: nothing more comes, for longer than the idle timeout.
  auto paused_at = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - paused_at < 1500ms) loop_.run_once(50ms);
  EXPECT_EQ(done, 0) << result.error;
  EXPECT_TRUE(body.empty());
  full = false;
  client.resume(id);
  ASSERT_TRUE(run_until([&] { return done > 0; }));
  EXPECT_EQ(result.status, 200);
  EXPECT_FALSE(result.stalled);
  EXPECT_TRUE(result.error.empty()) << result.error;
  EXPECT_EQ(body.substr(0, refused.size()), refused);  // the refused bytes came again, first
  EXPECT_EQ(streamed_text(body), words(30)["steps"][0]["text"]);
}

TEST_F(LoopHttp, AProviderSilentPastTheIdleTimeoutHasStalled) {
  llm::HttpClient client(loop_, {std::chrono::seconds(10), std::chrono::seconds(1)});
  json script = words(10);
  script["stall_after"] = 3;
  int done = 0;
  llm::HttpResult result;
  auto started = std::chrono::steady_clock::now();
  client.start(call(script), {[&](std::string_view) { return Take::kTaken; },
                              [&](llm::HttpResult r) {
                                ++done;
                                result = std::move(r);
                              }});
  ASSERT_TRUE(run_until([&] { return done > 0; }));
  EXPECT_TRUE(result.stalled);
  EXPECT_EQ(result.error, "no data for 1 s");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(client.running(), 0u);
}

TEST_F(LoopHttp, ARefusedConnectionAndAnErrorStatusEndWithWhatHappened) {
  llm::HttpClient client(loop_, {});
  llm::HttpCall nowhere = call(words(1));
  nowhere.url = "http://127.0.0.1:" + std::to_string(free_port()) + "/v1/chat/completions";
  json limited = words(1);
  limited["fail"] = {{"status", 429}, {"retry_after", "7"}, {"times", 1}};
  limited["id"] = unique("limited");
  std::vector<llm::HttpResult> results(2);
  int done = 0;
  client.start(nowhere, {nullptr, [&](llm::HttpResult r) {
                           results[0] = std::move(r);
                           ++done;
                         }});
  client.start(call(limited), {[&](std::string_view) { return Take::kTaken; },
                               [&](llm::HttpResult r) {
                                 results[1] = std::move(r);
                                 ++done;
                               }});
  ASSERT_TRUE(run_until([&] { return done == 2; }));
  EXPECT_EQ(results[0].status, 0);
  EXPECT_EQ(results[0].error, "cannot connect");
  EXPECT_EQ(results[1].status, 429);
  EXPECT_EQ(results[1].retry_after, "7");
  EXPECT_NE(results[1].body.find("rate_limit_exceeded"), std::string::npos) << results[1].body;
}

TEST_F(LoopHttp, AnAbortedTransferEndsWithoutAWordAndTheOthersGoOn) {
  llm::HttpClient client(loop_, {});
  int aborted_done = 0, other_done = 0;
  bool aborted_data = false;
  auto aborted = client.start(call(words(30, 50)), {[&](std::string_view) {
                                                      aborted_data = true;
                                                      return Take::kTaken;
                                                    },
                                                    [&](llm::HttpResult) { ++aborted_done; }});
  std::string other_body;
  client.start(call(words(30, 10)), {[&](std::string_view bytes) {
                                       other_body += bytes;
                                       return Take::kTaken;
                                     },
                                     [&](llm::HttpResult) { ++other_done; }});
  ASSERT_TRUE(run_until([&] { return aborted_data; }));
  client.abort(aborted);
  client.abort(aborted);  // twice: ignored
  ASSERT_TRUE(run_until([&] { return other_done > 0; }));
  EXPECT_EQ(aborted_done, 0);
  EXPECT_EQ(streamed_text(other_body), words(30)["steps"][0]["text"]);
  EXPECT_EQ(client.running(), 0u);
}

TEST_F(LoopHttp, OnDataCanAbortItsTransfer) {
  llm::HttpClient client(loop_, {});
  int done = 0;
  llm::HttpResult result;
  client.start(call(words(30, 20)), {[&](std::string_view) { return Take::kAbort; },
                                     [&](llm::HttpResult r) {
                                       ++done;
                                       result = std::move(r);
                                     }});
  ASSERT_TRUE(run_until([&] { return done > 0; }));
  EXPECT_TRUE(result.aborted);
  EXPECT_TRUE(result.error.empty()) << result.error;
}

}  // namespace
}  // namespace chatd::test
