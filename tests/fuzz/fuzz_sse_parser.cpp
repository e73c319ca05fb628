// SseParser: the input is a response body. The events must not depend on how the body is split
// into feeds (whole, byte by byte, pseudo-random chunks with empty feeds), must match a plain
// reference implementation of the WHATWG algorithm (plus chatd's leniency at the end of the
// body), and a parser must be reusable after finish().
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "llm/sse_parser.hpp"

namespace {

using chatd::llm::SseEvent;
using chatd::llm::SseParser;

bool same(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].event != b[i].event || a[i].data != b[i].data) return false;
  return true;
}

// The WHATWG event stream interpretation, written for clarity, not speed: a BOM at the start,
// lines ending in CRLF, LF or CR, comments, `data` and `event` fields. Like chatd (and unlike
// the spec) a last line without a line break is a line, and a last event without a blank line
// is dispatched.
std::vector<SseEvent> reference(std::string_view body) {
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\r' && body[i] != '\n') continue;
    lines.push_back(body.substr(start, i - start));
    if (body[i] == '\r' && i + 1 < body.size() && body[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < body.size()) lines.push_back(body.substr(start));
  std::vector<SseEvent> events;
  std::string event, data;
  bool has_data = false;
  auto dispatch = [&] {
    if (has_data) events.push_back({event, data});
    event.clear();
    data.clear();
    has_data = false;
  };
  for (std::string_view line : lines) {
    if (line.empty()) {
      dispatch();
      continue;
    }
    if (line.front() == ':') continue;
    std::string_view field = line, value;
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
      field = line.substr(0, colon);
      value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
      if (has_data) data += '\n';
      data += value;
      has_data = true;
    } else if (field == "event") {
      event = value;
    }
  }
  dispatch();  // the end of the body
  return events;
}

std::vector<SseEvent> in_chunks(std::string_view body, std::uint64_t seed) {
  SseParser parser;
  std::vector<SseEvent> out;
  std::uint64_t state = seed | 1;
  while (!body.empty()) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    std::size_t n = std::min<std::size_t>(state % 17, body.size());  // 0: an empty feed
    parser.feed(body.substr(0, n), out);
    body.remove_prefix(n);
  }
  parser.finish(out);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = fuzz_bytes(data, size);

  SseParser parser;
  std::vector<SseEvent> whole;
  parser.feed(body, whole);
  parser.finish(whole);
  FUZZ_CHECK(!parser.overflowed());  // far below kMaxEventBytes
  for (const auto& event : whole) {
    FUZZ_CHECK(event.event.find_first_of("\r\n") == std::string::npos);
    FUZZ_CHECK(event.data.find('\r') == std::string::npos);
  }
  FUZZ_CHECK(same(whole, reference(body)));

  // The same parser again, after finish(): nothing of the first body is left.
  std::vector<SseEvent> again;
  parser.feed(body, again);
  parser.finish(again);
  FUZZ_CHECK(same(whole, again));

  SseParser bytewise;
  std::vector<SseEvent> one_by_one;
  for (char c : body) bytewise.feed(std::string_view(&c, 1), one_by_one);
  bytewise.finish(one_by_one);
  FUZZ_CHECK(same(whole, one_by_one));

  std::uint64_t hash = 1469598103934665603ull;  // FNV-1a: the splits follow from the input
  for (unsigned char c : body) hash = (hash ^ c) * 1099511628211ull;
  FUZZ_CHECK(same(whole, in_chunks(body, hash)));
  FUZZ_CHECK(same(whole, in_chunks(body, hash * 31 + 7)));
  return 0;
}
