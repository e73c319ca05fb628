// Server-sent events: the WHATWG "event stream interpretation" over raw bytes fed in any split.
//
// Lines end in CRLF, LF or a lone CR; a CR ending one feed and an LF starting the next are one
// line break. Lines that end inside the chunk being fed are parsed in place; only a line that
// spans feeds is copied into `line_`, whose capacity is reused. Lines and events are capped at
// kMaxEventBytes: past that they are dropped (overflowed() turns true), never buffered.
#include "llm/sse_parser.hpp"

#include <utility>

namespace chatd::llm {
namespace {

constexpr unsigned char kBom[3] = {0xEF, 0xBB, 0xBF};
// After a long line, `line_` gives its memory back rather than keeping it per stream.
constexpr std::size_t kKeepLineCapacity = 64 * 1024;

}  // namespace

void SseParser::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (!started_) {
    // A UTF-8 BOM is skipped at the very start of the stream only; it may arrive split.
    while (!bytes.empty() && bom_matched_ < sizeof kBom) {
      if (static_cast<unsigned char>(bytes.front()) != kBom[bom_matched_]) break;
      ++bom_matched_;
      bytes.remove_prefix(1);
    }
    if (bom_matched_ < sizeof kBom && bytes.empty()) return;  // still undecided
    started_ = true;
    if (bom_matched_ < sizeof kBom) {
      // Not a BOM after all: the bytes matched so far start the first line (none is a break).
      line_.append(reinterpret_cast<const char*>(kBom), bom_matched_);
    }
  }
  if (bytes.empty()) return;
  if (pending_cr_) {
    pending_cr_ = false;
    if (bytes.front() == '\n') bytes.remove_prefix(1);
  }

  const char* const begin = bytes.data();
  const std::size_t n = bytes.size();
  std::size_t pos = 0;
  while (pos < n) {
    std::size_t eol = pos;
    while (eol < n && begin[eol] != '\n' && begin[eol] != '\r') ++eol;
    if (eol == n) {
      // The line continues in a later feed.
      if (skip_line_) return;
      if (line_.size() + (n - pos) > kMaxEventBytes) {
        start_discard();
        skip_line_ = true;
        return;
      }
      line_.append(begin + pos, n - pos);
      return;
    }
    const std::string_view piece(begin + pos, eol - pos);
    if (begin[eol] == '\n') {
      pos = eol + 1;
    } else if (eol + 1 < n) {
      pos = eol + (begin[eol + 1] == '\n' ? 2 : 1);
    } else {
      pending_cr_ = true;  // maybe the first half of a CRLF split across feeds
      pos = n;
    }
    on_line_end(piece, out);
  }
}

void SseParser::finish(std::vector<SseEvent>& out) {
  if (!started_ && bom_matched_ > 0) {
    line_.append(reinterpret_cast<const char*>(kBom), bom_matched_);
  }
  // A final line without a line break is still a line.
  if (skip_line_) {
    skip_line_ = false;
  } else if (!line_.empty()) {
    process_line(line_, out);
  }
  // Lenient, like go-genai: an event with data but no closing blank line is still dispatched.
  if (has_data_ && !discarding_) dispatch(out);
  reset();
}

// A line break was found; `piece` is the part of the line in the current feed.
void SseParser::on_line_end(std::string_view piece, std::vector<SseEvent>& out) {
  if (skip_line_) {
    skip_line_ = false;  // the end of an oversized line: it was not blank, so nothing to do
    return;
  }
  if (line_.empty()) {
    if (piece.size() > kMaxEventBytes) {
      start_discard();
      return;
    }
    process_line(piece, out);
    return;
  }
  if (line_.size() + piece.size() > kMaxEventBytes) {
    start_discard();
  } else {
    line_.append(piece);
    process_line(line_, out);
  }
  if (line_.capacity() > kKeepLineCapacity) {
    std::string().swap(line_);
  } else {
    line_.clear();
  }
}

void SseParser::process_line(std::string_view line, std::vector<SseEvent>& out) {
  if (line.empty()) {
    dispatch(out);
    return;
  }
  if (discarding_ || line.front() == ':') return;  // dropped event, or a comment / keepalive

  std::string_view field = line;
  std::string_view value;
  if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }

  if (field == "data") {
    const std::size_t size = data_.size() + (has_data_ ? 1 : 0) + value.size();
    if (size > kMaxEventBytes) {
      start_discard();
      return;
    }
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  }
  // `id`, `retry` and unknown fields are ignored.
}

// A blank line: the event built so far is complete.
void SseParser::dispatch(std::vector<SseEvent>& out) {
  if (discarding_) {
    discarding_ = false;  // the dropped event ends here
  } else if (has_data_) {
    SseEvent& event = out.emplace_back();
    event.event = event_;           // short: usually no allocation
    event.data = std::move(data_);  // handed over, not copied
  }
  // An event with no data field is not dispatched; either way the type resets.
  event_.clear();
  data_.clear();
  has_data_ = false;
}

void SseParser::start_discard() {
  overflowed_ = true;
  discarding_ = true;
  has_data_ = false;
  event_.clear();
  std::string().swap(data_);
  std::string().swap(line_);
}

void SseParser::reset() {
  std::string().swap(line_);
  event_.clear();
  data_.clear();
  has_data_ = false;
  pending_cr_ = false;
  started_ = false;
  bom_matched_ = 0;
  skip_line_ = false;
  discarding_ = false;
}

}  // namespace chatd::llm
