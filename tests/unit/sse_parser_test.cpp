// SSE parsing: the six provider transcripts in any split, and the WHATWG edge cases.
#include "llm/sse_parser.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatd::llm {
namespace {

using Events = std::vector<std::pair<std::string, std::string>>;  // (event, data)

std::string read_transcript(const std::string& name) {
  const std::string path = std::string(CHATD_SOURCE_DIR "/tests/fixtures/transcripts/") + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Events to_pairs(const std::vector<SseEvent>& events) {
  Events pairs;
  for (const SseEvent& e : events) pairs.emplace_back(e.event, e.data);
  return pairs;
}

// Feeds `input` in reads of `chunk` bytes (0: all at once), then finishes.
Events parse(std::string_view input, std::size_t chunk = 0, bool finish = true) {
  SseParser parser;
  std::vector<SseEvent> out;
  if (chunk == 0) chunk = input.size() + 1;
  for (std::size_t pos = 0; pos < input.size(); pos += chunk) {
    parser.feed(input.substr(pos, chunk), out);
  }
  if (finish) parser.finish(out);
  return to_pairs(out);
}

// Feeds `input` split at random points, with some empty feeds in between.
Events parse_random(std::string_view input, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> len(0, 40);
  SseParser parser;
  std::vector<SseEvent> out;
  std::size_t pos = 0;
  while (pos < input.size()) {
    const std::size_t n = std::min(len(rng), input.size() - pos);
    parser.feed(input.substr(pos, n), out);
    pos += n;
  }
  parser.finish(out);
  return to_pairs(out);
}

// Rewrites every line break (CRLF or LF) as `eol`.
std::string with_line_breaks(std::string_view input, std::string_view eol) {
  std::string result;
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (input[i] == '\r' && i + 1 < input.size() && input[i + 1] == '\n') continue;
    if (input[i] == '\n' || input[i] == '\r') {
      result.append(eol);
    } else {
      result.push_back(input[i]);
    }
  }
  return result;
}

const char* const kTranscripts[] = {"anthropic-text.sse", "anthropic-tool.sse", "google-text.sse",
                                    "google-tool.sse",    "openai-text.sse",    "openai-tool.sse"};

// ---------------------------------------------------------------------------------------------
// Transcripts

TEST(SseTranscripts, SameEventsInAnySplit) {
  for (const char* name : kTranscripts) {
    SCOPED_TRACE(name);
    const std::string body = read_transcript(name);
    ASSERT_FALSE(body.empty());
    const Events whole = parse(body);
    ASSERT_FALSE(whole.empty());
    EXPECT_EQ(parse(body, 1), whole);
    EXPECT_EQ(parse(body, 7), whole);
    for (std::size_t chunk = 2; chunk <= 16; ++chunk) EXPECT_EQ(parse(body, chunk), whole) << chunk;
    for (unsigned seed = 1; seed <= 20; ++seed) EXPECT_EQ(parse_random(body, seed), whole) << seed;
  }
}

TEST(SseTranscripts, SameEventsWithAnyLineBreak) {
  for (const char* name : kTranscripts) {
    SCOPED_TRACE(name);
    const std::string body = read_transcript(name);
    const Events whole = parse(body);
    for (const std::string_view eol : {"\n", "\r\n", "\r"}) {
      const std::string rewritten = with_line_breaks(body, eol);
      EXPECT_EQ(parse(rewritten), whole);
      EXPECT_EQ(parse(rewritten, 1), whole);
      EXPECT_EQ(parse(rewritten, 7), whole);
    }
  }
}

TEST(SseTranscripts, EveryDataIsOneJsonValueOrDone) {
  for (const char* name : kTranscripts) {
    SCOPED_TRACE(name);
    for (const auto& [event, data] : parse(read_transcript(name), 1)) {
      EXPECT_EQ(data.find_first_of("\r\n"), std::string::npos);
      if (data == "[DONE]") continue;
      EXPECT_TRUE(nlohmann::json::accept(data)) << data.substr(0, 80);
    }
  }
}

TEST(SseTranscripts, AnthropicText) {
  const Events events = parse(read_transcript("anthropic-text.sse"), 1);
  ASSERT_EQ(events.size(), 8u);
  const std::vector<std::string> names = {
      "message_start",       "content_block_start", "ping",          "content_block_delta",
      "content_block_delta", "content_block_stop",  "message_delta", "message_stop"};
  std::string text;
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].first, names[i]);
    const auto json = nlohmann::json::parse(events[i].second);
    EXPECT_EQ(json.at("type"), names[i]);  // the event name repeats the payload's type
    if (names[i] == "content_block_delta") text += json["delta"]["text"].get<std::string>();
  }
  EXPECT_EQ(events.front().second.size(), 275u);
  EXPECT_TRUE(events.front().second.starts_with(R"({"type": "message_start", "message": {"id": )"));
  EXPECT_TRUE(events.front().second.ends_with(R"("input_tokens": 25, "output_tokens": 1}}})"));
  EXPECT_EQ(events.back().second, R"({"type": "message_stop"})");
  EXPECT_EQ(text, "Hello!");
}

TEST(SseTranscripts, AnthropicTool) {
  const Events events = parse(read_transcript("anthropic-tool.sse"), 7);
  ASSERT_EQ(events.size(), 30u);
  EXPECT_EQ(events[0].first, "message_start");
  EXPECT_EQ(events[1].first, "content_block_start");
  EXPECT_EQ(events[2].first, "ping");
  EXPECT_EQ(events[16].first, "content_block_stop");
  EXPECT_EQ(events[17].first, "content_block_start");
  EXPECT_EQ(events[27].first, "content_block_stop");
  EXPECT_EQ(events[28].first, "message_delta");
  EXPECT_EQ(events[29].first, "message_stop");
  std::string text;
  std::string args;
  for (const auto& [event, data] : events) {
    const auto json = nlohmann::json::parse(data);
    EXPECT_EQ(json.at("type"), event);
    if (event != "content_block_delta") continue;
    const auto& delta = json.at("delta");
    if (delta.at("type") == "text_delta") text += delta.at("text").get<std::string>();
    if (delta.at("type") == "input_json_delta") args += delta.at("partial_json").get<std::string>();
  }
  EXPECT_EQ(events.front().second.size(), 245u);
  EXPECT_TRUE(events.front().second.starts_with(R"({"type":"message_start","message":{"id":)"));
  EXPECT_EQ(events.back().second, R"({"type":"message_stop"})");
  EXPECT_EQ(text, "Okay, let's check the weather for San Francisco, CA:");
  EXPECT_EQ(args, R"({"location": "San Francisco, CA", "unit": "fahrenheit"})");
}

TEST(SseTranscripts, GoogleText) {
  const std::string body = read_transcript("google-text.sse");
  ASSERT_NE(body.back(), '\n');  // the capture ends right after the last JSON: no line break
  const Events events = parse(body, 1);
  ASSERT_EQ(events.size(), 4u);
  std::string text;
  for (const auto& [event, data] : events) {
    EXPECT_EQ(event, "");
    const auto json = nlohmann::json::parse(data);
    for (const auto& part : json["candidates"][0]["content"]["parts"]) {
      text += part.value("text", "");
    }
  }
  EXPECT_EQ(events.front().second.size(), 278u);
  EXPECT_TRUE(events.front().second.starts_with(
      R"({"candidates": [{"content": {"parts": [{"text": "Here"}])"));
  EXPECT_EQ(events.back().second.size(), 453u);  // bytes
  EXPECT_TRUE(events.back().second.ends_with(R"("responseId": "ibRCaOfLGfuQ1PIPqNma8Aw"})"));
  EXPECT_NE(events.back().second.find(R"("finishReason": "STOP")"), std::string::npos);
  // Multi-byte UTF-8 survives 1-byte reads.
  EXPECT_EQ(text,
            "Here you go:\n\nEnglish: potato\nSpanish: patata\nFrench: pomme de terre\n"
            "German: Kartoffel\nItalian: patata\nJapanese: ジャガイモ (jagaimo)\n"
            "Russian: картофель (kartofel')\n");
  // Without finish() the last event is still pending.
  EXPECT_EQ(parse(body, 1, /*finish=*/false).size(), 3u);
}

TEST(SseTranscripts, GoogleTool) {
  const std::string body = read_transcript("google-tool.sse");
  ASSERT_NE(body.find("\r\n\r\n"), std::string::npos);  // CRLF framing, as live Gemini
  const Events events = parse(body, 1);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].first, "");
  EXPECT_EQ(events[1].first, "");
  EXPECT_EQ(events[0].second.size(), 803u);
  EXPECT_EQ(events[1].second.size(), 347u);
  const auto first = nlohmann::json::parse(events[0].second);
  const auto& part = first["candidates"][0]["content"]["parts"][0];
  EXPECT_EQ(part["functionCall"]["name"], "weather");
  EXPECT_EQ(part["functionCall"]["args"]["location"], "San Francisco");
  EXPECT_TRUE(part["thoughtSignature"].get<std::string>().starts_with("EqUCCqICAb4+"));
  EXPECT_TRUE(events[1].second.starts_with(R"({"candidates":[{"content":{"parts":[{"text":""}])"));
  EXPECT_TRUE(events[1].second.ends_with(R"("responseId":"b36LacjwM668nsEP2tbsgQQ"})"));
  // Every event is complete without finish(): the body ends in a blank line.
  EXPECT_EQ(parse(body, 1, /*finish=*/false).size(), 2u);
}

TEST(SseTranscripts, OpenAiText) {
  const Events events = parse(read_transcript("openai-text.sse"), 7);
  ASSERT_EQ(events.size(), 34u);
  std::string text;
  for (const auto& [event, data] : events) {
    EXPECT_EQ(event, "");
    if (data == "[DONE]") continue;
    const auto json = nlohmann::json::parse(data);
    for (const auto& choice : json["choices"]) {
      if (choice["delta"].contains("content") && choice["delta"]["content"].is_string()) {
        text += choice["delta"]["content"].get<std::string>();
      }
    }
  }
  EXPECT_EQ(events.front().second.size(), 284u);
  EXPECT_TRUE(
      events.front().second.starts_with(R"({"id":"chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL",)"));
  EXPECT_NE(events[32].second.find(R"("choices":[],"usage":{)"), std::string::npos);
  EXPECT_EQ(events.back().second, "[DONE]");
  EXPECT_EQ(text,
            "I'm unable to provide real-time weather updates. To get the current weather in San "
            "Francisco, I recommend checking a reliable weather website or a weather app.");
}

TEST(SseTranscripts, OpenAiTool) {
  const Events events = parse(read_transcript("openai-tool.sse"), 1);
  ASSERT_EQ(events.size(), 11u);
  std::string args;
  for (const auto& [event, data] : events) {
    EXPECT_EQ(event, "");
    if (data == "[DONE]") continue;
    const auto json = nlohmann::json::parse(data);
    for (const auto& choice : json["choices"]) {
      if (!choice["delta"].contains("tool_calls")) continue;
      for (const auto& call : choice["delta"]["tool_calls"]) {
        args += call["function"].value("arguments", "");
      }
    }
  }
  EXPECT_EQ(events.front().second.size(), 417u);
  EXPECT_TRUE(
      events.front().second.starts_with(R"({"id":"chatcmpl-ABfwERreu9s99xXsVuOWtIB2UOx62",)"));
  EXPECT_EQ(events.back().second, "[DONE]");
  EXPECT_EQ(args, R"({"city":"New York City"})");
}

// ---------------------------------------------------------------------------------------------
// Line breaks

TEST(SseLineBreaks, CrLfLfAndLoneCr) {
  const Events expected = {{"", "a"}, {"", "b"}, {"", "c"}};
  EXPECT_EQ(parse("data: a\r\n\r\ndata: b\r\n\r\ndata: c\r\n\r\n"), expected);
  EXPECT_EQ(parse("data: a\n\ndata: b\n\ndata: c\n\n"), expected);
  EXPECT_EQ(parse("data: a\r\rdata: b\r\rdata: c\r\r"), expected);
  EXPECT_EQ(parse("data: a\r\n\ndata: b\r\rdata: c\n\r\n"), expected);  // mixed
}

TEST(SseLineBreaks, CrLfSplitAcrossFeedsIsOneBreak) {
  SseParser parser;
  std::vector<SseEvent> out;
  parser.feed("data: a\r", out);
  parser.feed("\ndata: b\r", out);  // if this LF counted as a line, `a` would be dispatched alone
  EXPECT_TRUE(out.empty());
  parser.feed("\n\r", out);  // the LF ends `b`'s CRLF; the CR ends a blank line at once
  EXPECT_EQ(to_pairs(out), (Events{{"", "a\nb"}}));
  parser.feed("\n", out);  // the LF of that CRLF: not a second blank line
  parser.feed("data: c\n\n", out);
  EXPECT_EQ(to_pairs(out), (Events{{"", "a\nb"}, {"", "c"}}));
}

TEST(SseLineBreaks, LoneCrAtEndOfFeedThenData) {
  SseParser parser;
  std::vector<SseEvent> out;
  parser.feed("data: a\r", out);
  parser.feed("\r", out);  // CR then CR: a blank line
  EXPECT_EQ(to_pairs(out), (Events{{"", "a"}}));
  parser.feed("data: b\r", out);
  parser.feed("data: c\r", out);  // lone CR followed by a non-LF byte
  parser.feed("", out);           // an empty read changes nothing
  parser.feed("\n", out);         // ... so this LF belongs to the CR before it
  parser.feed("\n", out);         // blank line
  EXPECT_EQ(to_pairs(out), (Events{{"", "a"}, {"", "b\nc"}}));
}

TEST(SseLineBreaks, CrLfEveryPossibleSplit) {
  const std::string input = "event: e\r\ndata: x\r\ndata: y\r\n\r\ndata: z\r\n\r\n";
  const Events expected = {{"e", "x\ny"}, {"", "z"}};
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    SseParser parser;
    std::vector<SseEvent> out;
    parser.feed(std::string_view(input).substr(0, cut), out);
    parser.feed(std::string_view(input).substr(cut), out);
    EXPECT_EQ(to_pairs(out), expected) << cut;
  }
}

// ---------------------------------------------------------------------------------------------
// Fields

TEST(SseFields, CommentsAndKeepalivesAreIgnored) {
  EXPECT_EQ(parse(": OPENROUTER PROCESSING\n\n:\n\ndata: a\n: in the middle\ndata: b\n\n"),
            (Events{{"", "a\nb"}}));
  EXPECT_EQ(parse(":keepalive\n\n"), Events{});
}

TEST(SseFields, MultiLineDataJoinsWithLf) {
  EXPECT_EQ(parse("data: one\ndata: two\ndata:three\n\n"), (Events{{"", "one\ntwo\nthree"}}));
  EXPECT_EQ(parse("data: {\"a\":\ndata: 1}\n\n", 1), (Events{{"", "{\"a\":\n1}"}}));
}

TEST(SseFields, OnlyOneLeadingSpaceIsStripped) {
  EXPECT_EQ(parse("data:x\n\n"), (Events{{"", "x"}}));
  EXPECT_EQ(parse("data: x\n\n"), (Events{{"", "x"}}));
  EXPECT_EQ(parse("data:  x \n\n"), (Events{{"", " x "}}));
  EXPECT_EQ(parse("data:\tx\n\n"), (Events{{"", "\tx"}}));
  EXPECT_EQ(parse("event:  e\ndata: x\n\n"), (Events{{" e", "x"}}));
  EXPECT_EQ(parse("data: a:b: c\n\n"), (Events{{"", "a:b: c"}}));  // only the first colon splits
}

TEST(SseFields, EmptyDataField) {
  // `data:` (or `data` with no colon) is a data line with an empty value: the event has data.
  EXPECT_EQ(parse("data:\n\n"), (Events{{"", ""}}));
  EXPECT_EQ(parse("data\n\n"), (Events{{"", ""}}));
  EXPECT_EQ(parse("data: \n\n"), (Events{{"", ""}}));
  EXPECT_EQ(parse("data:\ndata:\n\n"), (Events{{"", "\n"}}));
  EXPECT_EQ(parse("data: a\ndata:\n\n"), (Events{{"", "a\n"}}));
}

TEST(SseFields, EventWithoutDataIsNotDispatchedAndResetsType) {
  EXPECT_EQ(parse("event: ping\n\ndata: x\n\n"), (Events{{"", "x"}}));
  EXPECT_EQ(parse("\n\n\n\ndata: x\n\n"), (Events{{"", "x"}}));
  EXPECT_EQ(parse("event: lonely\n\n"), Events{});
}

TEST(SseFields, EventTypeResetsAfterDispatch) {
  EXPECT_EQ(parse("event: a\ndata: 1\n\ndata: 2\n\nevent: b\ndata: 3\n\n"),
            (Events{{"a", "1"}, {"", "2"}, {"b", "3"}}));
  EXPECT_EQ(parse("event: a\nevent: b\ndata: 1\n\n"), (Events{{"b", "1"}}));  // the last wins
  EXPECT_EQ(parse("data: 1\nevent: late\n\n"), (Events{{"late", "1"}}));      // any order
  EXPECT_EQ(parse("event\ndata: 1\n\n"), (Events{{"", "1"}}));
}

TEST(SseFields, IdRetryAndUnknownFieldsAreIgnored) {
  EXPECT_EQ(parse("id: 7\nretry: 3000\nfoo: bar\nDATA: no\nData: no\n data: no\ndata: yes\n\n"),
            (Events{{"", "yes"}}));
  EXPECT_EQ(parse("id: 1\n\nretry: 10\n\n"), Events{});  // no data: nothing
  EXPECT_EQ(parse("id\nretry\ndata: x\nid: 2\n\n"), (Events{{"", "x"}}));
}

TEST(SseFields, NoTrailingBlankLineNeedsFinish) {
  // The final line has no line break at all.
  EXPECT_EQ(parse("data: a\n\ndata: b"), (Events{{"", "a"}, {"", "b"}}));
  EXPECT_EQ(parse("data: a\n\ndata: b", 1), (Events{{"", "a"}, {"", "b"}}));
  // The final line has a break, but no blank line follows.
  EXPECT_EQ(parse("event: e\ndata: b\r\n"), (Events{{"e", "b"}}));
  EXPECT_EQ(parse("data: b\r"), (Events{{"", "b"}}));
  EXPECT_EQ(parse("event: e\ndata: b\ndata: c"), (Events{{"e", "b\nc"}}));
  // Without finish(), nothing is dispatched.
  EXPECT_EQ(parse("data: a\n\ndata: b\n", 0, /*finish=*/false), (Events{{"", "a"}}));
  // A pending event without data, or a trailing comment, dispatches nothing.
  EXPECT_EQ(parse("data: a\n\nevent: e"), (Events{{"", "a"}}));
  EXPECT_EQ(parse("data: a\n\n: bye"), (Events{{"", "a"}}));
  EXPECT_EQ(parse(""), Events{});
}

TEST(SseFields, FinishResetsForANewStream) {
  SseParser parser;
  std::vector<SseEvent> out;
  parser.feed("event: e\ndata: 1", out);
  parser.finish(out);
  parser.finish(out);  // nothing left
  parser.feed(
      "\xEF\xBB\xBF"
      "data: 2\n\n",
      out);
  EXPECT_EQ(to_pairs(out), (Events{{"e", "1"}, {"", "2"}}));
}

// ---------------------------------------------------------------------------------------------
// Byte order mark

TEST(SseBom, LeadingBomIsSkipped) {
  const std::string bom = "\xEF\xBB\xBF";
  EXPECT_EQ(parse(bom + "data: x\n\n"), (Events{{"", "x"}}));
  EXPECT_EQ(parse(bom + "data: x\n\n", 1), (Events{{"", "x"}}));
  EXPECT_EQ(parse(bom + "event: e\ndata: x\n\n", 2), (Events{{"e", "x"}}));
  EXPECT_EQ(parse(bom + "data: x"), (Events{{"", "x"}}));
  EXPECT_EQ(parse(bom), Events{});
}

TEST(SseBom, OnlyAtTheVeryStart) {
  const std::string bom = "\xEF\xBB\xBF";
  // A second BOM is part of the line: the field name is "\xEF\xBB\xBF" "data", an unknown field.
  EXPECT_EQ(parse(bom + bom + "data: x\n\n"), Events{});
  EXPECT_EQ(parse("data: 1\n\n" + bom + "data: 2\n\n"), (Events{{"", "1"}}));
  EXPECT_EQ(parse("data: " + bom + "\n\n"), (Events{{"", bom}}));
}

TEST(SseBom, PartialBomIsKeptAsData) {
  // Bytes that start like a BOM but are not one belong to the first line.
  EXPECT_EQ(parse("\xEF\xBB"
                  "data: x\n\n",
                  1),
            Events{});  // field "\xEF\xBB" "data": unknown
  EXPECT_EQ(parse("\xEF\xBB"), Events{});
  SseParser parser;
  std::vector<SseEvent> out;
  parser.feed("\xEF", out);
  parser.feed("\xBB", out);
  parser.feed(":\n", out);  // field "\xEF\xBB" with an empty value: ignored
  parser.feed("data: y\n\n", out);
  EXPECT_EQ(to_pairs(out), (Events{{"", "y"}}));
}

// ---------------------------------------------------------------------------------------------
// Size cap and volume

TEST(SseCap, OversizedLineIsDroppedWithItsEvent) {
  const std::size_t cap = SseParser::kMaxEventBytes;
  const std::string huge(cap + 1, 'x');
  const std::string input = "data: before\n\nevent: big\ndata: a\ndata: " + huge +
                            "\ndata: b\n\nevent: after\ndata: c\n\n";
  for (const std::size_t chunk : {input.size(), std::size_t{65536}, std::size_t{1000003}}) {
    SseParser parser;
    std::vector<SseEvent> out;
    for (std::size_t pos = 0; pos < input.size(); pos += chunk) {
      parser.feed(std::string_view(input).substr(pos, chunk), out);
    }
    parser.finish(out);
    EXPECT_TRUE(parser.overflowed()) << chunk;
    EXPECT_EQ(to_pairs(out), (Events{{"", "before"}, {"after", "c"}})) << chunk;
  }
}

TEST(SseCap, LineOfExactlyTheCapIsKept) {
  const std::size_t cap = SseParser::kMaxEventBytes;
  const std::string value(cap - 5, 'y');  // "data:" + value == cap bytes
  SseParser parser;
  std::vector<SseEvent> out;
  parser.feed("data:", out);
  parser.feed(value, out);
  parser.feed("\n\n", out);
  EXPECT_FALSE(parser.overflowed());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data.size(), value.size());
}

TEST(SseCap, EventDataOverTheCapAcrossManyLines) {
  const std::size_t cap = SseParser::kMaxEventBytes;
  const std::string line = "data: " + std::string(1023, 'z') + "\n";  // 1024 bytes of data each
  SseParser parser;
  std::vector<SseEvent> out;
  for (std::size_t i = 0; i < cap / 1024 + 1; ++i) parser.feed(line, out);
  parser.feed("\ndata: next\n\n", out);
  EXPECT_TRUE(parser.overflowed());
  EXPECT_EQ(to_pairs(out), (Events{{"", "next"}}));
}

TEST(SseCap, OverflowAtEndOfStreamDispatchesNothing) {
  SseParser parser;
  std::vector<SseEvent> out;
  parser.feed("data: ", out);
  parser.feed(std::string(SseParser::kMaxEventBytes, 'q'), out);  // no line break, ever
  parser.finish(out);
  EXPECT_TRUE(parser.overflowed());
  EXPECT_TRUE(out.empty());
}

TEST(SseCap, OversizedCommentDropsTheEventAroundIt) {
  SseParser parser;
  std::vector<SseEvent> out;
  parser.feed("data: a\n:" + std::string(SseParser::kMaxEventBytes, 'c') + "\ndata: b\n\n", out);
  parser.feed("data: c\n\n", out);
  EXPECT_TRUE(parser.overflowed());
  EXPECT_EQ(to_pairs(out), (Events{{"", "c"}}));
}

TEST(SseVolume, ManyEventsInOneFeed) {
  std::string input;
  Events expected;
  for (int i = 0; i < 10000; ++i) {
    const std::string data = "{\"n\":" + std::to_string(i) + "}";
    const std::string event = i % 3 == 0 ? "tick" : "";
    if (!event.empty()) input += "event: " + event + "\n";
    input += "data: " + data + (i % 2 ? "\r\n\r\n" : "\n\n");
    if (i % 100 == 0) input += ": keepalive\n\n";
    expected.emplace_back(event, data);
  }
  SseParser parser;
  std::vector<SseEvent> out;
  parser.feed(input, out);
  EXPECT_EQ(to_pairs(out), expected);
  parser.finish(out);
  EXPECT_EQ(out.size(), expected.size());
  EXPECT_FALSE(parser.overflowed());
  EXPECT_EQ(parse(input, 4096), expected);
}

TEST(SseVolume, OneEventAcrossManyFeeds) {
  SseParser parser;
  std::vector<SseEvent> out;
  parser.feed("event: slow\ndata: ", out);
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    parser.feed("0123456789", out);
    expected += "0123456789";
  }
  EXPECT_TRUE(out.empty());
  parser.feed("\n", out);
  EXPECT_TRUE(out.empty());
  parser.feed("\n", out);
  EXPECT_EQ(to_pairs(out), (Events{{"slow", expected}}));
}

}  // namespace
}  // namespace chatd::llm
