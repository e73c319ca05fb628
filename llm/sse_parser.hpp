// Server-sent events (WHATWG "event stream interpretation"), fed bytes in any split.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chatd::llm {

struct SseEvent {
  std::string event;  // the `event:` field; empty when absent
  std::string data;   // the `data:` lines joined with '\n'
};

class SseParser {
 public:
  // Appends every event completed by these bytes to `out`.
  void feed(std::string_view bytes, std::vector<SseEvent>& out);
  // The body ended: dispatches a pending event that had data but no blank line after it.
  void finish(std::vector<SseEvent>& out);
  // True once a line or an event was longer than kMaxEventBytes and was dropped (sticky).
  bool overflowed() const { return overflowed_; }

  // A single line, or one event's joined data, longer than this is dropped, never buffered.
  static constexpr std::size_t kMaxEventBytes = std::size_t{8} << 20;

 private:
  void on_line_end(std::string_view piece, std::vector<SseEvent>& out);
  void process_line(std::string_view line, std::vector<SseEvent>& out);
  void dispatch(std::vector<SseEvent>& out);
  void start_discard();
  void reset();

  std::string line_;               // the current line when it spans feeds (reused)
  std::string event_;              // the `event:` field of the event being built
  std::string data_;               // the `data:` lines of the event being built, joined with '\n'
  bool has_data_ = false;          // at least one `data` field (possibly empty) was seen
  bool pending_cr_ = false;        // the last feed ended in '\r': a leading '\n' is the same break
  bool started_ = false;           // past the optional UTF-8 BOM at the start of the stream
  unsigned char bom_matched_ = 0;  // BOM bytes seen so far while !started_
  bool skip_line_ = false;         // the current line is over the cap: drop it up to its end
  bool discarding_ = false;        // the current event overflowed: drop it up to its blank line
  bool overflowed_ = false;
};

}  // namespace chatd::llm
