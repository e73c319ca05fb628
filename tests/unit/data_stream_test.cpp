// The data-stream encoder, the client-side message model it mirrors, and title cleaning.
#include "llm/data_stream.hpp"

#include <gtest/gtest.h>

#include "llm/reply.hpp"

namespace chatd::llm {
namespace {

using nlohmann::json;

class Lines : public PartSink {
 public:
  bool write_line(std::string_view line) override {
    text += line;
    return open;
  }
  std::string text;
  bool open = true;
};

TEST(EncodePart, OneLinePerPartAlways) {
  EXPECT_EQ(encode_part('0', "two\nlines \"quoted\""), "0:\"two\\nlines \\\"quoted\\\"\"\n");
  EXPECT_EQ(encode_part('0', "caf\xc3\xa9"), "0:\"caf\xc3\xa9\"\n");
  // Invalid UTF-8 is replaced, never passed through and never an exception.
  EXPECT_EQ(encode_part('0', std::string("bad \xff byte")), "0:\"bad \xef\xbf\xbd byte\"\n");
  EXPECT_EQ(encode_part('f', json{{"messageId", "msg-1"}}), "f:{\"messageId\":\"msg-1\"}\n");
  EXPECT_EQ(encode_part('2', json::array()), "2:[]\n");
}

TEST(MessageBuilder, TextStepsToolsAndReasoningAsTheClientBuildsThem) {
  MessageBuilder builder("msg-a", "2026-01-01T00:00:00.000000Z");
  Lines lines;
  DataStream stream(lines, builder);
  stream.emit('f', {{"messageId", "msg-a"}});
  stream.emit('g', "think");
  stream.emit('g', "ing");
  stream.emit('j', {{"signature", "sig"}});
  stream.emit('0', "Hel");
  stream.emit('0', "lo");
  stream.emit('9', {{"toolCallId", "c1"}, {"toolName", "t"}, {"args", {{"x", 1}}}});
  stream.emit('a', {{"toolCallId", "c1"}, {"result", {{"ok", true}}}});
  stream.emit('e', {{"finishReason", "tool-calls"}, {"isContinued", false}});
  stream.emit('f', {{"messageId", "msg-a"}});
  stream.emit('0', "!");
  stream.emit('e', {{"finishReason", "stop"}, {"isContinued", false}});
  stream.emit('2', json::array({{{"type", "chat-title"}, {"title", "T"}}}));
  stream.emit('d', {{"finishReason", "stop"}});
  auto expected = json::parse(R"({
    "id":"msg-a","createdAt":"2026-01-01T00:00:00.000000Z","role":"assistant",
    "content":"Hello!","reasoning":"thinking",
    "parts":[
      {"type":"step-start"},
      {"type":"reasoning","reasoning":"thinking","details":[{"type":"text","text":"thinking","signature":"sig"}]},
      {"type":"text","text":"Hello"},
      {"type":"tool-invocation","toolInvocation":{"state":"result","step":0,"toolCallId":"c1","toolName":"t","args":{"x":1},"result":{"ok":true}}},
      {"type":"step-start"},
      {"type":"text","text":"!"}],
    "toolInvocations":[{"state":"result","step":0,"toolCallId":"c1","toolName":"t","args":{"x":1},"result":{"ok":true}}]
  })");
  EXPECT_EQ(builder.message(), expected);
  EXPECT_EQ(lines.text.substr(0, 24), "f:{\"messageId\":\"msg-a\"}\n");
  // What recovery stores of a reply whose worker died: the same message, from the lines alone
  // (keep-alives among them, a last line cut short by the crash).
  std::string written = lines.text;
  written.insert(written.find("0:\"lo\""), "\n");
  EXPECT_EQ(rebuild_message("msg-a", "2026-01-01T00:00:00.000000Z", written + "0:\"cut"), expected);
  EXPECT_EQ(
      rebuild_message("m", "t", ""),
      json::parse(R"({"id":"m","createdAt":"t","role":"assistant","content":"","parts":[]})"));
}

TEST(MessageBuilder, RedactedReasoningClosesTheTextDetail) {
  MessageBuilder builder("m", "t");
  builder.apply('g', "a");
  builder.apply('i', {{"data", "xyz"}});
  builder.apply('g', "b");
  EXPECT_EQ(builder.message()["parts"], json::parse(R"([{"type":"reasoning","reasoning":"ab",
    "details":[{"type":"text","text":"a"},{"type":"redacted","data":"xyz"},{"type":"text","text":"b"}]}])"));
}

TEST(DataStream, AGoneReaderIsAValueAndTheMessageStillGrows) {
  MessageBuilder builder("m", "t");
  Lines lines;
  DataStream stream(lines, builder);
  EXPECT_TRUE(stream.emit('0', "a"));
  lines.open = false;
  EXPECT_FALSE(stream.emit('0', "b"));
  EXPECT_TRUE(stream.reader_gone());
  EXPECT_FALSE(stream.emit('0', "c"));
  EXPECT_EQ(builder.message()["content"], "abc");
  // The sink still sees every part (it may record them for other readers).
  EXPECT_EQ(lines.text, "0:\"a\"\n0:\"b\"\n0:\"c\"\n");
}

// PostgreSQL cannot store U+0000: the reader and the stored message both get U+FFFD.
TEST(DataStream, AU0000BecomesUFFFDForTheReaderAndTheMessageAlike) {
  MessageBuilder builder("msg-n", "2026-01-01T00:00:00.000000Z");
  Lines lines;
  DataStream stream(lines, builder);
  const std::string nul("\0", 1), fffd = "\xEF\xBF\xBD";
  stream.emit('f', {{"messageId", "msg-n"}});
  stream.emit('0', "be" + nul + "ta");
  stream.emit('9', {{"toolCallId", "c1"}, {"toolName", "t"}, {"args", {{"k" + nul, "v" + nul}}}});
  stream.emit('a', {{"toolCallId", "c1"}, {"result", {{"text", "r" + nul}}}});
  EXPECT_EQ(lines.text.find("\\u0000"), std::string::npos) << lines.text;
  EXPECT_NE(lines.text.find("0:\"be" + fffd + "ta\""), std::string::npos) << lines.text;
  json message = builder.message();
  EXPECT_EQ(message["content"], "be" + fffd + "ta");
  std::string stored = message.dump();
  EXPECT_EQ(stored.find("\\u0000"), std::string::npos) << stored;
  EXPECT_NE(stored.find("\"k" + fffd + "\":\"v" + fffd + "\""), std::string::npos) << stored;
  EXPECT_NE(stored.find("\"r" + fffd + "\""), std::string::npos) << stored;
}

TEST(CleanTitle, FortyCharactersNoQuotesColonsOrEmoji) {
  EXPECT_EQ(clean_title("\"Weather: in Paris\"\n"), "Weather in Paris");
  EXPECT_EQ(clean_title("Trip \xF0\x9F\x9A\x80 planning \xE2\x9C\x88 ideas"),
            "Trip planning ideas");
  EXPECT_EQ(clean_title(std::string(60, 'a')), std::string(40, 'a'));
  EXPECT_EQ(clean_title("caf\xc3\xa9 " + std::string(50, 'x')).size(), 41u);  // 40 characters
  EXPECT_EQ(clean_title("  spaced   out  "), "spaced out");
  EXPECT_EQ(clean_title("\xe2\x80\x9cQuoted\xe2\x80\x9d"), "Quoted");
  EXPECT_EQ(clean_title(""), "");
}

}  // namespace
}  // namespace chatd::llm
