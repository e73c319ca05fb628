// OpenAI's fast path for text chunks (detail::openai_text_delta, nlohmann's SAX parser instead
// of a DOM): whatever it takes, the stream mapper must map exactly as with the full parse. The
// two mappers, with and without it, are fed the recorded transcripts, hand-made edge cases and
// random mutations of real chunks, and must agree event for event.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "llm/conversation.hpp"
#include "llm/openai.hpp"
#include "llm/provider_common.hpp"
#include "llm/sse_parser.hpp"
#include "tests/unit/provider_test_support.hpp"

namespace chatd::llm {
namespace {

using testing::describe;
using testing::Lines;
using testing::read_transcript;

std::vector<SseEvent> events_of(const std::string& body) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.feed(body, events);
  parser.finish(events);
  return events;
}

Lines map(const std::vector<SseEvent>& events, bool fast) {
  auto mapper = detail::openai_stream_mapper(fast);
  std::vector<ModelEvent> out;
  for (const auto& e : events) mapper->on_event(e, out);
  mapper->on_end(out);
  Lines lines;
  for (const auto& e : out) lines.push_back(describe(e));
  return lines;
}

// One chunk, then a normal end: what the chunk did shows in the events and the finish.
Lines map_chunk(const std::string& data, bool fast) {
  return map({SseEvent{"", data},
              SseEvent{"", R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"},
              SseEvent{"", "[DONE]"}},
             fast);
}

std::string text_chunk(const std::string& delta) {
  return R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1727346168,)"
         R"("model":"gpt-4o","system_fingerprint":"fp_1","choices":[{"index":0,"delta":)" +
         delta + R"(,"logprobs":null,"finish_reason":null}]})";
}

TEST(OpenAiTextFastPath, TranscriptsMapTheSameAndTakeTheFastPath) {
  for (const char* name : {"openai-text.sse", "openai-tool.sse"}) {
    SCOPED_TRACE(name);
    auto events = events_of(read_transcript(name));
    EXPECT_EQ(map(events, true), map(events, false));
    size_t fast = 0;
    for (const auto& e : events) fast += detail::openai_text_delta(e.data).has_value();
    if (std::string(name) == "openai-text.sse") {
      EXPECT_GE(fast, events.size() - 3);
    }
  }
}

TEST(OpenAiTextFastPath, TakesThePlainTextChunk) {
  EXPECT_EQ(detail::openai_text_delta(text_chunk(R"({"content":" weather"})")), " weather");
  EXPECT_EQ(
      detail::openai_text_delta(text_chunk(R"({"role":"assistant","content":"","refusal":null})")),
      "");
  EXPECT_EQ(
      detail::openai_text_delta(
          R"({"choices":[{"delta":{"content":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00"}}],"usage":null})"),
      "a\"b\\c/d\n\t\u00e9\U0001F600");
  EXPECT_EQ(detail::openai_text_delta(R"({"choices":[{"delta":{"cont\u0065nt":"escaped key"}}]})"),
            "escaped key");
}

TEST(OpenAiTextFastPath, LeavesEverythingElseToTheFullParse) {
  for (const std::string& chunk : {
           text_chunk(R"({"content":"a","content":"b"})"),
           text_chunk(R"({"content":"a","reasoning_content":"r"})"),
           text_chunk(R"({"refusal":"no"})"),
           text_chunk(R"({"content":null})"),
           text_chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{"}}]})"),
           std::string(R"({"choices":[{"delta":{"content":"a"},"finish_reason":"stop"}]})"),
           std::string(R"({"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}})"),
           std::string(R"({"error":{"message":"boom"}})"),
           std::string(R"({"choices":[{"delta":{"content":"a"}}],"choices":[]})"),
           std::string(R"({"choices":[1]})"),
           std::string(R"([{"choices":[]}])"),
           std::string(R"({"choices":[{"delta":{"content":"\ud83d"}}]})"),
           std::string("{\"choices\":[{\"delta\":{\"content\":\"\xff\"}}]}"),
           std::string(R"({"choices":[{"delta":{"content":"a"}}]} x)"),
           std::string("not json"),
           std::string(""),
       }) {
    EXPECT_FALSE(detail::openai_text_delta(chunk).has_value()) << chunk;
  }
}

TEST(OpenAiTextFastPath, EdgeCasesMapAsTheFullParseDoes) {
  const std::vector<std::string> chunks = {
      text_chunk(R"({"content":"a\"b\\c\/d\n\t\r\b\f"})"),
      text_chunk(R"({"content":"\u00e9\u4e2d\ud83d\ude00 é中😀"})"),
      text_chunk(R"({"content":"\ud83d"})"),
      text_chunk(R"({"content":"\udc00x"})"),
      text_chunk("{\"content\":\"\xff\"}"),
      text_chunk("{\"content\":\"\xc3\"}"),
      text_chunk("{\"content\":\"\xc0\xaf\"}"),
      text_chunk("{\"content\":\"\xed\xa0\x80\"}"),
      text_chunk("{\"content\":\"tab\there\"}"),
      text_chunk("{\"content\":\"\x01\"}"),
      text_chunk(R"({"content":""})"),
      text_chunk(R"({"content":null})"),
      text_chunk(R"({"content":5})"),
      text_chunk(R"({"content":{"a":"b"}})"),
      text_chunk(R"({"content":["x"]})"),
      text_chunk(R"({"content":"a","content":"b"})"),
      text_chunk(R"({"content":null,"content":"b"})"),
      text_chunk(R"({"role":{"nested":["x",{"content":"NOT"}]},"content":"yes"})"),
      text_chunk(R"({"refusal":null,"content":"r"})"),
      text_chunk(R"({"refusal":"I can't"})"),
      text_chunk(R"({"reasoning":"think","content":"x"})"),
      text_chunk(R"({"reasoning_content":"think"})"),
      text_chunk(
          R"({"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":""}}]})"),
      text_chunk(R"({"function_call":{"name":"f"},"content":"x"})"),
      text_chunk(R"({})"),
      text_chunk("null"),
      text_chunk("\"text\""),
      text_chunk(R"([{"content":"x"}])"),
      R"({"choices":[{"delta":{"content":"a"}},{"delta":{"content":"NOT"}}]})",
      R"({"choices":[{"delta":{"content":"a"}},7,[1,{"x":[]}],"s",null]})",
      R"({"choices":[5,{"delta":{"content":"NOT"}}]})",
      R"({"choices":[[{"delta":{"content":"NOT"}}]]})",
      R"({"choices":[{"index":0}]})",
      R"({"choices":[{"delta":null}]})",
      R"({"choices":[{"delta":{"content":"a"},"delta":{"content":"b"}}]})",
      R"({"choices":[{"delta":{"content":"a"}}],"choices":[{"delta":{"content":"b"}}]})",
      R"({"choices":{"0":{"delta":{"content":"NOT"}}}})",
      R"({"choices":null})",
      R"({"choices":[]})",
      R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}})",
      R"({"choices":[{"delta":{"content":"u"}}],"usage":null})",
      R"({"choices":[{"delta":{"content":"u"}}],"usage":{"prompt_tokens":3}})",
      R"({"choices":[{"delta":{"content":"u"}}],"usage":"x"})",
      R"({"error":null,"choices":[{"delta":{"content":"e"}}]})",
      R"({"error":{"message":"boom"},"choices":[{"delta":{"content":"e"}}]})",
      R"({"error":"boom"})",
      R"({"error":false})",
      R"({"choices":[{"delta":{"content":"f"},"finish_reason":"length"}]})",
      R"({"choices":[{"delta":{"content":"f"},"finish_reason":1}]})",
      R"({"choices":[{"finish_reason":null,"delta":{"content":"f"}}]})",
      R"({"x":{"choices":[{"delta":{"content":"NOT"}}]},"choices":[{"delta":{"content":"y"}}]})",
      R"({"obfuscation":"abc","choices":[{"delta":{"content":"o"}}]})",
      R"({"cho\u0069ces":[{"d\u0065lta":{"cont\u0065nt":"k"}}]})",
      R"({"created":1e999,"choices":[{"delta":{"content":"big"}}]})",
      R"({"created":-1e999,"choices":[{"delta":{"content":"big"}}]})",
      R"({"created":18446744073709551616,"choices":[{"delta":{"content":"big"}}]})",
      R"({"created":-9223372036854775809,"choices":[{"delta":{"content":"big"}}]})",
      R"({"created":01,"choices":[{"delta":{"content":"lead"}}]})",
      R"({"choices":[{"delta":{"content":"a"}}]} x)",
      R"({"choices":[{"delta":{"content":"a"}}]}{"choices":[]})",
      R"({"choices":[{"delta":{"content":"a"}}])",
      R"({"choices":[{"delta":{"content":"a"}}]}   )",
      "  \n{ \"choices\" : [ { \"delta\" : { \"content\" : \"ws\" } } ] }\n",
      R"(/* c */{"choices":[{"delta":{"content":"comment"}}]})",
      "\xef\xbb\xbf{\"choices\":[{\"delta\":{\"content\":\"bom\"}}]}",
      "{\"choices\":[{\"delta\":{\"content\":\"nul\\u0000byte\"}}]}",
      "[DONE] ",
      "",
      "{",
      "}",
      "true",
      "42",
  };
  for (const auto& chunk : chunks)
    EXPECT_EQ(map_chunk(chunk, true), map_chunk(chunk, false)) << chunk;
}

TEST(OpenAiTextFastPath, RandomMutationsMapAsTheFullParseDoes) {
  auto events = events_of(read_transcript("openai-text.sse"));
  auto tools = events_of(read_transcript("openai-tool.sse"));
  events.insert(events.end(), tools.begin(), tools.end());
  std::vector<std::string> seeds;
  for (const auto& e : events)
    if (!e.data.empty() && e.data.front() == '{') seeds.push_back(e.data);
  seeds.push_back(text_chunk(R"({"content":"a\"b\u00e9\ud83d\ude00"})"));
  const std::string alphabet =
      "{}[]\":,\\nul0123456789.eE+-tf \x80\xc3\xa9\xff"
      "u";
  const std::vector<std::string> words = {
      "\"content\"", "\"choices\"",   "\"delta\"", "\"error\"", "\"usage\"", "\"finish_reason\"",
      "\"refusal\"", "\"reasoning\"", "null",      "\"stop\"",  "{}",        "[]",
      "\\u0065",     "\\ud83d",       "1e999"};
  std::mt19937 random(2026);
  int agreed_fast = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string chunk = seeds[random() % seeds.size()];
    int edits = 1 + static_cast<int>(random() % 3);
    for (int i = 0; i < edits && !chunk.empty(); ++i) {
      size_t at = random() % chunk.size();
      switch (random() % 4) {
        case 0:
          chunk[at] = alphabet[random() % alphabet.size()];
          break;
        case 1:
          chunk.insert(at, 1, alphabet[random() % alphabet.size()]);
          break;
        case 2:
          chunk.erase(at, 1 + random() % 4);
          break;
        default:
          chunk.insert(at, words[random() % words.size()]);
          break;
      }
    }
    ASSERT_EQ(map_chunk(chunk, true), map_chunk(chunk, false)) << chunk;
    agreed_fast += detail::openai_text_delta(chunk).has_value();
  }
  // The mutations must exercise the fast path too, not only the fallback.
  EXPECT_GT(agreed_fast, 2000);
}

}  // namespace
}  // namespace chatd::llm
