// The reply loop's endings that no provider causes: an exception from anywhere inside it (no
// thread to be had, out of memory, a tool source that throws) and a record the database
// refuses still end the stream with its error part, and the caller gets a result to store,
// never an exception after the 200.
#include "llm/reply.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
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

}  // namespace
}  // namespace chatd::llm
