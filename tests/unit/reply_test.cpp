// The reply loop's rules, through a scripted upstream on a real event loop (no network):
// retries only before the first byte and within the Retry-After cap, max-steps, the title
// wait, an interrupt during tools, back-pressure, and exactly one `d` or `3:` at the end. Also
// the endings no provider causes: an exception from anywhere inside (no thread to be had, out
// of memory, a tool source that throws) and a record the database refuses still end the stream
// with its error part, and the caller gets a result to store, never an exception after the 200.
#include "llm/reply.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/event_loop.hpp"
#include "llm/data_stream.hpp"
#include "llm/provider_registry.hpp"

namespace chatd::llm {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

class Lines : public PartSink {
 public:
  bool write_line(std::string_view line) override {
    lines.emplace_back(line);
    return true;
  }
  bool behind() const override { return behind_after != 0 && lines.size() >= behind_after; }
  std::vector<std::string> lines;
  size_t behind_after = 0;  // lines after which the reader is behind (0: never)
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

// One scripted answer of the provider.
struct Answer {
  long status = 200;
  std::vector<std::string> chunks;  // a 200's body, in pieces
  std::string error;                // a 200 cut after its chunks (connection lost)
  std::string retry_after;          // of a non-200
  std::string body;                 // of a non-200
};

// Answers the calls in order (the last one again once the script runs out), one chunk per round
// of the loop, as a provider's bytes come.
class ScriptedUpstream : public Upstream {
 public:
  ScriptedUpstream(base::EventLoop& loop, std::vector<Answer> answers)
      : loop_(loop), answers_(std::move(answers)) {}
  Id start(const HttpCall& call, Handlers handlers) override {
    Id id = next_++;
    transfers_[id] = {answers_.at(std::min(bodies_.size(), answers_.size() - 1)),
                      std::move(handlers)};
    bodies_.push_back(json::parse(call.body));
    loop_.post([this, id] { pump(id); });
    return id;
  }
  void resume(Id id) override {
    auto found = transfers_.find(id);
    if (found == transfers_.end() || !found->second.paused) return;
    found->second.paused = false;
    ++resumes_;
    loop_.post([this, id] { pump(id); });
  }
  void abort(Id id) override { transfers_.erase(id); }
  size_t calls() const { return bodies_.size(); }
  const std::vector<json>& bodies() const { return bodies_; }
  int pauses() const { return pauses_; }
  int resumes() const { return resumes_; }

 private:
  struct Transfer {
    Answer answer;
    Handlers handlers;
    size_t next_chunk = 0;
    bool paused = false;
  };
  void pump(Id id) {
    auto found = transfers_.find(id);
    if (found == transfers_.end()) return;
    Transfer& t = found->second;
    HttpResult result;
    result.status = t.answer.status;
    if (t.answer.status == 200 && t.next_chunk < t.answer.chunks.size()) {
      switch (t.handlers.on_data(t.answer.chunks[t.next_chunk])) {
        case Take::kTaken:
          ++t.next_chunk;
          loop_.post([this, id] { pump(id); });
          return;
        case Take::kFull:
          t.paused = true;
          ++pauses_;
          return;
        case Take::kAbort:
          result.aborted = true;
          break;
      }
    } else if (t.answer.status == 200) {
      result.error = t.answer.error;
    } else {
      result.body = t.answer.body;
      result.retry_after = t.answer.retry_after;
    }
    auto done = std::move(t.handlers.on_done);
    transfers_.erase(found);
    done(std::move(result));
  }

  base::EventLoop& loop_;
  std::vector<Answer> answers_;
  std::map<Id, Transfer> transfers_;
  std::vector<json> bodies_;
  Id next_ = 1;
  int pauses_ = 0;
  int resumes_ = 0;
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
  ReplyInputs inputs(Upstream& upstream, ToolRunner* tools, std::optional<TitleJob> title,
                     std::function<TickVerdict()> on_tick) {
    ReplyInputs in{*provider_, upstream, loop_,   {},       "msg-1", "2026-01-01T00:00:00Z",
                   tools,      title,    on_tick, options_, nullptr, nullptr,
                   nullptr,    nullptr};
    in.request.model = "m";
    in.request.messages = json::array({{{"role", "user"}, {"content", "hi"}}});
    in.observer = observer_;
    in.on_end = [this](ReplyResult result) { result_ = std::move(result); };
    return in;
  }
  // Runs the loop until the reply ends (10 s at most).
  ReplyResult finish(Reply& reply, const std::function<void()>& each_round = nullptr) {
    reply.start();
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!result_ && Clock::now() < deadline) {
      loop_.run_once(std::chrono::milliseconds(20));
      if (each_round) each_round();
    }
    EXPECT_TRUE(result_.has_value()) << "the reply did not end";
    return result_.value_or(ReplyResult{});
  }
  ReplyResult run(Upstream& upstream, ToolRunner* tools = nullptr,
                  std::optional<TitleJob> title = std::nullopt,
                  std::function<TickVerdict()> on_tick = nullptr) {
    Reply reply(inputs(upstream, tools, std::move(title), std::move(on_tick)), sink_);
    return finish(reply);
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

  base::EventLoop loop_;
  std::unique_ptr<Provider> provider_ =
      make_provider({"openai", "sk-test", "http://127.0.0.1:9/v1", {"m"}});
  ReplyOptions options_;
  ReplyObserver* observer_ = nullptr;
  Lines sink_;
  std::optional<ReplyResult> result_;
};

TEST_F(ReplyRules, AnExceptionInsideEndsTheStreamWithItsErrorPart) {
  BrokenTools tools;
  Finishes observer;
  observer_ = &observer;
  ScriptedUpstream upstream(loop_, {text("never")});

  ReplyResult result = run(upstream, &tools);

  EXPECT_EQ(result.finish_reason, FinishReason::kError);
  EXPECT_EQ(result.error, "The reply failed: internal server error.");
  ASSERT_FALSE(sink_.lines.empty());
  EXPECT_EQ(sink_.lines.back(), "3:\"The reply failed: internal server error.\"\n");
  EXPECT_EQ(observer.finished, 1);
  EXPECT_EQ(observer.with_result, 1);
  EXPECT_TRUE(result.message.is_object());
  EXPECT_EQ(upstream.calls(), 0u);
}

// A record the database refuses (on_tick answers kFail) ends the reply at once with its error
// part, never with `d`: the client must not think it was kept.
TEST_F(ReplyRules, ARefusedRecordEndsTheStreamWithItsErrorPart) {
  ScriptedUpstream upstream(loop_, {text("never")});
  int ticks = 0;
  ReplyResult result = run(upstream, nullptr, std::nullopt, [&]() {
    ++ticks;
    return TickVerdict::kFail;
  });

  EXPECT_EQ(ticks, 1);
  EXPECT_EQ(upstream.calls(), 0u);
  EXPECT_EQ(result.finish_reason, FinishReason::kError);
  EXPECT_EQ(result.error, kUnstorable);
  ASSERT_FALSE(sink_.lines.empty());
  EXPECT_EQ(sink_.lines.back(), "3:\"" + std::string(kUnstorable) + "\"\n");
  for (const auto& line : sink_.lines) EXPECT_NE(line.rfind("d:", 0), 0u) << line;
  EXPECT_FALSE(result.interrupted);
}

TEST_F(ReplyRules, AFailureBeforeTheFirstByteIsRetried) {
  ScriptedUpstream transport(loop_, {refused(429, "0"), refused(503, "0"), text("Hello")});
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
  ScriptedUpstream transport(loop_, {refused(503, "0")});
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
  ScriptedUpstream transport(loop_, {refused(429, "3600"), text("never")});
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
  ScriptedUpstream transport(loop_, {cut, text("Hello")});
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
  ScriptedUpstream transport(loop_,
                             {tool_call("call_1"), tool_call("call_2"), tool_call("call_3")});
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
  ScriptedUpstream transport(loop_, {tool_call("call_1"), text("Done")});
  auto result = run(transport, &tools);
  EXPECT_EQ(transport.calls(), 2u);
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
  EXPECT_EQ(count('a'), 1u) << stream();
  expect_one_ending();
}

// Every model call a provider answered is reported once, when it is over, with the usage it
// reported (the ledger's rows): a refused attempt is no call, a cut one reports what it had.
TEST_F(ReplyRules, EveryAnsweredCallIsReportedOnceWithItsUsage) {
  Tools tools;
  Answer first = tool_call("call_1");
  first.chunks.insert(
      first.chunks.end() - 1,
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,"
      "\"completion_tokens\":3,\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n");
  Answer cut = text("Hel");
  cut.chunks.resize(1);
  cut.error = "connection reset";
  ScriptedUpstream transport(loop_, {refused(503, "0"), first, cut});
  std::vector<Usage> calls;
  auto in = inputs(transport, &tools, std::nullopt, nullptr);
  std::vector<int> numbers;
  in.on_model_call = [&](int number, const Usage& usage) {
    numbers.push_back(number);
    calls.push_back(usage);
  };
  Reply reply(std::move(in), sink_);
  finish(reply);
  EXPECT_EQ(transport.calls(), 3u);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(numbers, (std::vector<int>{1, 2}));
  EXPECT_EQ(calls[0].prompt_tokens, 7);
  EXPECT_EQ(calls[0].uncached_input(), 5);
  EXPECT_EQ(calls[0].cache_read_tokens, 2);
  EXPECT_EQ(calls[0].completion_tokens, 3);
  EXPECT_FALSE(calls[1].prompt_tokens);
  EXPECT_FALSE(calls[1].completion_tokens);
  expect_one_ending();
}

// Each call after the first waits for before_model_call's answer, which may come later: "" goes
// on; a refusal (a budget reached) ends the reply there with its `3:` part, after the step
// whose `e` was sent, and no further call is made.
TEST_F(ReplyRules, ACallAfterTheFirstGoesOnlyWhenAllowed) {
  Tools tools;
  ScriptedUpstream transport(loop_, {tool_call("call_1"), tool_call("call_2"), text("never")});
  int asked = 0;
  auto in = inputs(transport, &tools, std::nullopt, nullptr);
  in.before_model_call = [&](std::function<void(std::string)> answer) {
    ++asked;
    std::string verdict = asked == 1 ? "" : "Usage limit reached. Spent.";
    loop_.after(std::chrono::milliseconds(30),
                [answer = std::move(answer), verdict] { answer(verdict); });
  };
  Reply reply(std::move(in), sink_);
  auto result = finish(reply);
  EXPECT_EQ(asked, 2);
  EXPECT_EQ(transport.calls(), 2u);
  EXPECT_EQ(count('e'), 2u) << stream();
  EXPECT_EQ(result.finish_reason, FinishReason::kError);
  EXPECT_EQ(result.error, "Usage limit reached. Spent.");
  expect_one_ending();
  EXPECT_EQ(sink_.lines.back(), "3:\"Usage limit reached. Spent.\"\n");
}

// A file of the newest message that the provider has no place for (OpenAI: a text file, a PDF
// by URL) ends the reply with a `3:` that says so, before any call; in older messages it is left
// out and the model is told it was.
TEST_F(ReplyRules, AnAttachmentTheProviderCannotTakeIsSaidPlainly) {
  ScriptedUpstream transport(loop_, {text("never")});
  auto in = inputs(transport, nullptr, std::nullopt, nullptr);
  in.request.messages = json::array({{{"role", "user"},
                                      {"content", "read this"},
                                      {"experimental_attachments",
                                       {{{"name", "notes.txt"},
                                         {"contentType", "text/plain"},
                                         {"url", "data:text/plain;base64,aGk="}}}}}});
  Reply reply(std::move(in), sink_);
  auto result = finish(reply);
  EXPECT_EQ(transport.calls(), 0u);
  EXPECT_EQ(result.finish_reason, FinishReason::kError);
  EXPECT_EQ(result.error,
            "The model cannot take the attachment \"notes.txt\" (text/plain); attach it in another "
            "form, or choose another model.");
  expect_one_ending();

  ScriptedUpstream older(loop_, {text("fine")});
  result_.reset();
  sink_ = Lines();
  auto again = inputs(older, nullptr, std::nullopt, nullptr);
  again.request.messages = json::array({{{"role", "user"},
                                         {"content", "a PDF by URL"},
                                         {"experimental_attachments",
                                          {{{"name", "a.pdf"},
                                            {"contentType", "application/pdf"},
                                            {"url", "https://example.com/a.pdf"}}}}},
                                        {{"role", "assistant"}, {"content", "ok"}},
                                        {{"role", "user"}, {"content", "go on"}}});
  Reply next(std::move(again), sink_);
  EXPECT_EQ(finish(next).finish_reason, FinishReason::kStop);
  EXPECT_EQ(older.calls(), 1u);
}

// An interrupt while the answer is awaited ends the reply as "stop"; the late answer is ignored.
TEST_F(ReplyRules, AnInterruptWhileTheNextCallWaitsEndsTheReply) {
  Tools tools;
  ScriptedUpstream transport(loop_, {tool_call("call_1"), text("never")});
  std::function<void(std::string)> pending;
  auto in = inputs(transport, &tools, std::nullopt,
                   [&] { return pending ? TickVerdict::kStop : TickVerdict::kGoOn; });
  in.before_model_call = [&](std::function<void(std::string)> answer) {
    pending = std::move(answer);
  };
  Reply reply(std::move(in), sink_);
  auto result = finish(reply);
  ASSERT_TRUE(pending);
  pending("");
  EXPECT_EQ(transport.calls(), 1u);
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
  expect_one_ending();
  EXPECT_EQ(sink_.lines.back().rfind("d:{\"finishReason\":\"stop\"", 0), 0u);
}

// The title arrives on the loop 200 ms after it was asked for, when the reply's text is long
// done: the reply waits for it and announces it before its `d`.
TEST_F(ReplyRules, TheTitleIsWaitedForAndAnnouncedBeforeTheEnd) {
  options_.title_wait = std::chrono::seconds(5);
  std::vector<std::string> stored;
  TitleJob job{[&](std::function<void(std::string)> done) {
                 loop_.after(std::chrono::milliseconds(200),
                             [done = std::move(done)] { done("Generated title"); });
                 return std::function<void()>([] {});
               },
               "Fallback", [&](const std::string& t) { stored.push_back(t); }};
  ScriptedUpstream transport(loop_, {text("Hello")});
  run(transport, nullptr, job);
  EXPECT_EQ(stored, std::vector<std::string>{"Generated title"});
  ASSERT_GE(sink_.lines.size(), 2u);
  EXPECT_NE(sink_.lines[sink_.lines.size() - 2].find("Generated title"), std::string::npos)
      << stream();
  expect_one_ending();
}

TEST_F(ReplyRules, ATitleLateBeyondTheWaitGivesWayToTheFallback) {
  options_.title_wait = std::chrono::milliseconds(200);
  std::vector<std::string> stored;
  bool abandoned = false;
  TitleJob job{[&](std::function<void(std::string)>) {
                 return std::function<void()>([&] { abandoned = true; });
               },
               "Fallback", [&](const std::string& t) { stored.push_back(t); }};
  ScriptedUpstream transport(loop_, {text("Hello")});
  auto started = Clock::now();
  run(transport, nullptr, job);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(3));
  EXPECT_EQ(stored, std::vector<std::string>{"Fallback"});
  EXPECT_TRUE(abandoned);  // its request does not outlive the reply
  EXPECT_NE(stream().find("\"title\":\"Fallback\""), std::string::npos) << stream();
  expect_one_ending();
}

TEST_F(ReplyRules, AnInterruptDuringToolsEndsTheReplyWithoutWaitingForThem) {
  static Tools tools;  // outlives the call's detached thread
  tools.hold();
  ScriptedUpstream transport(loop_, {tool_call("call_1"), text("never")});
  auto result = run(transport, &tools, std::nullopt,
                    [&]() { return tools.running() ? TickVerdict::kStop : TickVerdict::kGoOn; });
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

// A reader that is behind pauses the provider's transfer (nothing piles up in chatd); once it
// caught up, writable() resumes the transfer and the reply ends whole.
TEST_F(ReplyRules, AReaderBehindPausesTheTransferUntilItCatchesUp) {
  Answer answer = text("one");
  answer.chunks.insert(answer.chunks.begin() + 1, sse({{"content", " two"}}));
  ScriptedUpstream transport(loop_, {answer});
  sink_.behind_after = 2;  // f and the first text part
  Reply reply(inputs(transport, nullptr, std::nullopt, nullptr), sink_);
  size_t lines_when_paused = 0;
  auto result = finish(reply, [&] {
    if (transport.pauses() == 0 || sink_.behind_after == 0) return;
    lines_when_paused = sink_.lines.size();
    sink_.behind_after = 0;  // the reader caught up
    reply.writable();
  });
  EXPECT_EQ(transport.pauses(), 1);
  EXPECT_EQ(transport.resumes(), 1);
  EXPECT_EQ(lines_when_paused, 2u) << stream();
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
  EXPECT_NE(stream().find("0:\" two\""), std::string::npos) << stream();
  expect_one_ending();
}

// An interrupt reaches a reply whose provider is silent (and whose reader is behind): the
// reply's clock ends it, its transfer is dropped, the stream ends with `e` and `d`.
TEST_F(ReplyRules, AnInterruptReachesAPausedReply) {
  options_.tick_interval = std::chrono::milliseconds(20);
  ScriptedUpstream transport(loop_, {text("Hello")});
  sink_.behind_after = 2;
  bool stop = false;
  Reply reply(inputs(transport, nullptr, std::nullopt,
                     [&]() { return stop ? TickVerdict::kStop : TickVerdict::kGoOn; }),
              sink_);
  auto result = finish(reply, [&] { stop = transport.pauses() > 0; });
  EXPECT_TRUE(result.interrupted);
  EXPECT_EQ(transport.resumes(), 0);
  EXPECT_EQ(count('e'), 1u) << stream();
  expect_one_ending();
  EXPECT_EQ(sink_.lines.back().rfind("d:{\"finishReason\":\"stop\"", 0), 0u);
}

}  // namespace
}  // namespace chatd::llm
