// The reply loop's rules, through a scripted transport (no network): retries only before the
// first byte and within the Retry-After cap, max-steps, the title wait, an interrupt during
// tools, and exactly one `d` or `3:` at the end. Also the endings no provider causes: an
// exception from anywhere inside (no thread to be had, out of memory, a tool source that
// throws) and a record the database refuses still end the stream with its error part, and the
// caller gets a result to store, never an exception after the 200. Whatever runs replies (a
// thread each today, the reply loop of issue 15 next) must keep every one of these.
#include "llm/reply.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "llm/data_stream.hpp"
#include "llm/provider_registry.hpp"
#include "llm/transport.hpp"

namespace chatd::llm {
namespace {

class Lines : public PartSink {
 public:
  bool write_line(std::string_view line) override {
    lines.emplace_back(line);
    return true;
  }
  std::vector<std::string> lines;
};

class BrokenTools : public ToolRunner {
 public:
  std::vector<ToolSpec> tools() const override { throw std::runtime_error("tool list broke"); }
  std::vector<nlohmann::json> run(const std::vector<ToolCallDone>&) override { return {}; }
};

class Finishes : public ReplyObserver {
 public:
  void reply_finished(const ReplyResult* result) override {
    ++finished;
    with_result += result != nullptr;
  }
  int finished = 0;
  int with_result = 0;
};

TEST(Reply, AnExceptionInsideEndsTheStreamWithItsErrorPart) {
  auto provider = make_provider({"openai", "sk-test", "http://127.0.0.1:9/v1", {"m"}});
  Transport transport({});
  BrokenTools tools;
  Finishes observer;
  Lines sink;
  ReplyInputs inputs{*provider, transport,    {}, "msg-1", "2026-01-01T00:00:00Z",
                     &tools,    std::nullopt, {}, {}};
  inputs.request.model = "m";
  inputs.request.messages = nlohmann::json::array({{{"role", "user"}, {"content", "hi"}}});
  inputs.observer = &observer;

  ReplyResult result = run_reply(std::move(inputs), sink);

  EXPECT_EQ(result.finish_reason, FinishReason::kError);
  EXPECT_EQ(result.error, "The reply failed: internal server error.");
  ASSERT_FALSE(sink.lines.empty());
  EXPECT_EQ(sink.lines.back(), "3:\"The reply failed: internal server error.\"\n");
  EXPECT_EQ(observer.finished, 1);
  EXPECT_EQ(observer.with_result, 1);
  EXPECT_TRUE(result.message.is_object());
}

// A record the database refuses (on_tick answers kFail) ends the reply at once with its error
// part, never with `d`: the client must not think it was kept.
TEST(Reply, ARefusedRecordEndsTheStreamWithItsErrorPart) {
  // Nothing listens on port 9: the reply waits between retries, ticking.
  auto provider = make_provider({"openai", "sk-test", "http://127.0.0.1:9/v1", {"m"}});
  Transport transport({});
  Lines sink;
  ReplyInputs inputs{*provider, transport,    {}, "msg-1", "2026-01-01T00:00:00Z",
                     nullptr,   std::nullopt, {}, {}};
  inputs.request.model = "m";
  inputs.request.messages = nlohmann::json::array({{{"role", "user"}, {"content", "hi"}}});
  int ticks = 0;
  inputs.on_tick = [&](const MessageBuilder&) {
    ++ticks;
    return TickVerdict::kFail;
  };

  ReplyResult result = run_reply(std::move(inputs), sink);

  EXPECT_EQ(ticks, 1);
  EXPECT_EQ(result.finish_reason, FinishReason::kError);
  EXPECT_EQ(result.error, kUnstorable);
  ASSERT_FALSE(sink.lines.empty());
  EXPECT_EQ(sink.lines.back(), "3:\"" + std::string(kUnstorable) + "\"\n");
  for (const auto& line : sink.lines) EXPECT_NE(line.rfind("d:", 0), 0u) << line;
  EXPECT_FALSE(result.interrupted);
}

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// One scripted answer of the provider.
struct Answer {
  long status = 200;
  std::vector<std::string> chunks;  // a 200's body, in pieces
  std::string error;                // a 200 cut after its chunks (connection lost)
  std::string retry_after;          // of a non-200
  std::string body;                 // of a non-200
};

// Answers the calls in order (the last one again once the script runs out).
class ScriptedTransport : public Transport {
 public:
  explicit ScriptedTransport(std::vector<Answer> answers)
      : Transport({}), answers_(std::move(answers)) {}
  HttpResult stream(const HttpCall& call, const std::function<bool(std::string_view)>& on_data,
                    const std::function<bool()>& on_tick) const override {
    const Answer& answer = answers_.at(std::min(calls_, answers_.size() - 1));
    ++calls_;
    bodies_.push_back(json::parse(call.body));
    HttpResult result;
    if (!on_tick()) {
      result.aborted = true;
      return result;
    }
    result.status = answer.status;
    if (answer.status != 200) {
      result.body = answer.body;
      result.retry_after = answer.retry_after;
      return result;
    }
    for (const auto& chunk : answer.chunks) {
      if (!on_data(chunk)) {
        result.aborted = true;
        return result;
      }
    }
    result.error = answer.error;
    return result;
  }
  size_t calls() const { return calls_; }
  const std::vector<json>& bodies() const { return bodies_; }

 private:
  std::vector<Answer> answers_;
  mutable size_t calls_ = 0;
  mutable std::vector<json> bodies_;
};

// OpenAI's chat-completion chunks.
std::string sse(const json& delta, const json& finish_reason = nullptr) {
  json chunk = {{"id", "c"},
                {"object", "chat.completion.chunk"},
                {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish_reason}}}}};
  return "data: " + chunk.dump() + "\n\n";
}
Answer text(const std::string& words) {
  Answer answer;
  answer.chunks = {sse({{"content", words}}), sse(json::object(), "stop"), "data: [DONE]\n\n"};
  return answer;
}
Answer tool_call(const std::string& id) {
  json call = {{"index", 0},
               {"id", id},
               {"type", "function"},
               {"function", {{"name", "lookup"}, {"arguments", "{\"q\":1}"}}}};
  Answer answer;
  answer.chunks = {sse({{"tool_calls", {call}}}), sse(json::object(), "tool_calls"),
                   "data: [DONE]\n\n"};
  return answer;
}
Answer refused(long status, const std::string& retry_after) {
  Answer answer;
  answer.status = status;
  answer.retry_after = retry_after;
  answer.body = R"({"error":{"message":"busy","type":"x"}})";
  return answer;
}

// Tool calls answered at once, or held until released.
class Tools : public ToolRunner {
 public:
  std::vector<ToolSpec> tools() const override {
    return {{"lookup", "Looks up.", {{"type", "object"}}}};
  }
  std::vector<json> run(const std::vector<ToolCallDone>& calls) override {
    std::unique_lock lock(mutex_);
    running_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return !hold_; });
    running_ = false;
    ++done_;
    changed_.notify_all();
    return std::vector<json>(calls.size(), json{{"found", true}});
  }
  void hold() { hold_ = true; }
  void release() {
    std::lock_guard lock(mutex_);
    hold_ = false;
    changed_.notify_all();
  }
  bool running() {
    std::lock_guard lock(mutex_);
    return running_;
  }
  // Waits until a held call has returned (its thread is detached from the reply).
  bool wait_done(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(5), [&] { return done_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool hold_ = false;
  bool running_ = false;
  int done_ = 0;
};

class ReplyRules : public ::testing::Test {
 protected:
  ReplyResult run(const ScriptedTransport& transport, ToolRunner* tools = nullptr,
                  std::optional<TitleJob> title = std::nullopt,
                  std::function<TickVerdict(const MessageBuilder&)> on_tick = nullptr) {
    ReplyInputs inputs{*provider_, transport, {},      "msg-1", "2026-01-01T00:00:00Z",
                       tools,      title,     on_tick, options_};
    inputs.request.model = "m";
    inputs.request.messages = json::array({{{"role", "user"}, {"content", "hi"}}});
    return run_reply(std::move(inputs), sink_);
  }
  size_t count(char code) const {
    return static_cast<size_t>(std::count_if(sink_.lines.begin(), sink_.lines.end(),
                                             [&](auto& l) { return !l.empty() && l[0] == code; }));
  }
  // Exactly one `d` or `3:`, and it ends the stream.
  void expect_one_ending() const {
    size_t endings = count('d') + count('3');
    EXPECT_EQ(endings, 1u);
    ASSERT_FALSE(sink_.lines.empty());
    char last = sink_.lines.back()[0];
    EXPECT_TRUE(last == 'd' || last == '3') << sink_.lines.back();
  }
  std::string stream() const {
    std::string all;
    for (const auto& line : sink_.lines) all += line;
    return all;
  }

  std::unique_ptr<Provider> provider_ =
      make_provider({"openai", "sk-test", "http://127.0.0.1:9/v1", {"m"}});
  ReplyOptions options_;
  Lines sink_;
};

TEST_F(ReplyRules, AFailureBeforeTheFirstByteIsRetried) {
  ScriptedTransport transport({refused(429, "0"), refused(503, "0"), text("Hello")});
  auto result = run(transport);
  EXPECT_EQ(transport.calls(), 3u);
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
  EXPECT_EQ(count('3'), 0u) << stream();
  EXPECT_EQ(count('f'), 1u) << stream();  // the attempts that failed left nothing
  EXPECT_NE(stream().find("0:\"Hello\""), std::string::npos);
  expect_one_ending();
}

TEST_F(ReplyRules, RetriesStopAtMaxAttempts) {
  options_.max_attempts = 3;
  ScriptedTransport transport({refused(503, "0")});
  auto result = run(transport);
  EXPECT_EQ(transport.calls(), 3u);
  EXPECT_EQ(result.finish_reason, FinishReason::kError);
  EXPECT_FALSE(result.error.empty());
  EXPECT_EQ(count('f'), 0u) << stream();
  expect_one_ending();
  EXPECT_EQ(sink_.lines.back()[0], '3');
}

TEST_F(ReplyRules, ARetryAfterAboveTheCapIsNotWaitedFor) {
  options_.max_retry_wait = std::chrono::milliseconds(20'000);
  ScriptedTransport transport({refused(429, "3600"), text("never")});
  auto started = Clock::now();
  auto result = run(transport);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(transport.calls(), 1u);
  EXPECT_EQ(result.finish_reason, FinishReason::kError);
  expect_one_ending();
  EXPECT_EQ(sink_.lines.back()[0], '3');
}

TEST_F(ReplyRules, AStepThatSentSomethingIsNeverRetried) {
  Answer cut = text("Hel");
  cut.chunks.resize(1);  // the text, then the connection is lost
  cut.error = "connection reset";
  ScriptedTransport transport({cut, text("Hello")});
  auto result = run(transport);
  EXPECT_EQ(transport.calls(), 1u);
  EXPECT_EQ(result.finish_reason, FinishReason::kError);
  EXPECT_NE(stream().find("0:\"Hel\""), std::string::npos);  // what came is kept
  expect_one_ending();
  EXPECT_EQ(sink_.lines.back()[0], '3');
}

TEST_F(ReplyRules, ToolCallsLoopUntilMaxSteps) {
  options_.max_steps = 3;
  Tools tools;
  ScriptedTransport transport({tool_call("call_1"), tool_call("call_2"), tool_call("call_3")});
  auto result = run(transport, &tools);
  EXPECT_EQ(transport.calls(), 3u);
  EXPECT_EQ(count('f'), 3u) << stream();
  EXPECT_EQ(count('9'), 3u) << stream();
  EXPECT_EQ(count('a'), 3u) << stream();
  EXPECT_EQ(count('e'), 3u) << stream();
  EXPECT_EQ(result.finish_reason, FinishReason::kToolCalls);
  expect_one_ending();
  EXPECT_EQ(sink_.lines.back().rfind("d:{\"finishReason\":\"tool-calls\"", 0), 0u);
  // Each step sends the calls and results of the steps before it.
  ASSERT_EQ(transport.bodies().size(), 3u);
  EXPECT_LT(transport.bodies()[0]["messages"].size(), transport.bodies()[1]["messages"].size());
  EXPECT_LT(transport.bodies()[1]["messages"].size(), transport.bodies()[2]["messages"].size());
}

TEST_F(ReplyRules, AToolLoopEndsWhenTheModelAnswers) {
  Tools tools;
  ScriptedTransport transport({tool_call("call_1"), text("Done")});
  auto result = run(transport, &tools);
  EXPECT_EQ(transport.calls(), 2u);
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
  EXPECT_EQ(count('a'), 1u) << stream();
  expect_one_ending();
}

TEST_F(ReplyRules, TheTitleIsWaitedForAndAnnouncedBeforeTheEnd) {
  options_.title_wait = std::chrono::seconds(5);
  std::promise<std::string> title;
  std::vector<std::string> stored;
  TitleJob job{title.get_future().share(), "Fallback",
               [&](const std::string& t) { stored.push_back(t); }};
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    title.set_value("Generated title");
  });
  ScriptedTransport transport({text("Hello")});
  run(transport, nullptr, job);
  later.join();
  EXPECT_EQ(stored, std::vector<std::string>{"Generated title"});
  ASSERT_GE(sink_.lines.size(), 2u);
  EXPECT_NE(sink_.lines[sink_.lines.size() - 2].find("Generated title"), std::string::npos)
      << stream();
  expect_one_ending();
}

TEST_F(ReplyRules, ATitleLateBeyondTheWaitGivesWayToTheFallback) {
  options_.title_wait = std::chrono::milliseconds(200);
  std::promise<std::string> never;
  std::vector<std::string> stored;
  TitleJob job{never.get_future().share(), "Fallback",
               [&](const std::string& t) { stored.push_back(t); }};
  ScriptedTransport transport({text("Hello")});
  auto started = Clock::now();
  run(transport, nullptr, job);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(3));
  EXPECT_EQ(stored, std::vector<std::string>{"Fallback"});
  EXPECT_NE(stream().find("\"title\":\"Fallback\""), std::string::npos) << stream();
  expect_one_ending();
}

TEST_F(ReplyRules, AnInterruptDuringToolsEndsTheReplyWithoutWaitingForThem) {
  static Tools tools;  // outlives the call's detached thread
  tools.hold();
  std::atomic<bool> interrupt{false};
  ScriptedTransport transport({tool_call("call_1"), text("never")});
  std::thread interrupter([&] {
    while (!tools.running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    interrupt = true;
  });
  auto result = run(transport, &tools, std::nullopt, [&](const MessageBuilder&) {
    return interrupt.load() ? TickVerdict::kStop : TickVerdict::kGoOn;
  });
  interrupter.join();
  tools.release();
  EXPECT_TRUE(tools.wait_done(1));
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
  EXPECT_EQ(transport.calls(), 1u);
  EXPECT_EQ(count('a'), 0u) << stream();
  EXPECT_EQ(count('3'), 0u) << stream();
  expect_one_ending();
  EXPECT_EQ(sink_.lines.back().rfind("d:{\"finishReason\":\"stop\"", 0), 0u);
}

}  // namespace
}  // namespace chatd::llm
