// The AI SDK v4 data stream (STREAM-PROTOCOL.md §1): parts encoded as `CODE:JSON\n` lines, and
// the assistant message a v4 client (`processChatResponse` of @ai-sdk/ui-utils 1.2.11) builds
// from them. Every part the service sends goes through DataStream::emit, which writes the line
// and applies it to the message, so the stored message is by construction the one the browser
// shows.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace chatd::llm {

// Where parts go: the HTTP response, a test buffer, a replay log. Returns false once the
// reader is gone.
class PartSink {
 public:
  virtual ~PartSink() = default;
  virtual bool write_line(std::string_view line) = 0;
  // The reader has yet to take much of what was written: a reply waits (its provider transfer
  // pauses) until the owner of the sink calls Reply::writable().
  virtual bool behind() const { return false; }
};

// `code:json\n`. Invalid UTF-8 in strings is replaced with U+FFFD, so every line is valid.
std::string encode_part(char code, const nlohmann::json& value);

// Mirrors the client's message building for the parts this service emits: f, 0, g, j, i, 9,
// a, e, d, 2, 3 (b/c are not emitted: tool calls are sent complete).
class MessageBuilder {
 public:
  MessageBuilder(std::string message_id, std::string created_at);
  void apply(char code, const nlohmann::json& value);
  // The UI message: id, createdAt, role, content, parts, and toolInvocations / reasoning
  // when present (as the client keeps them).
  nlohmann::json message() const;
  bool empty() const { return parts_.empty(); }

 private:
  std::string id_;
  std::string created_at_;
  std::string content_;
  std::string reasoning_;
  bool has_reasoning_ = false;
  nlohmann::json parts_ = nlohmann::json::array();
  nlohmann::json tool_invocations_ = nlohmann::json::array();
  int step_ = 0;
  // Indexes into parts_ of the open text/reasoning part, -1 when none; the open reasoning text
  // detail is the last of that part's details when reasoning_detail_open_.
  long text_part_ = -1;
  long reasoning_part_ = -1;
  bool reasoning_detail_open_ = false;
};

// The message a client builds from these data-stream lines (as this service wrote them): what
// a reply that its worker could not finish is stored as. Lines that are no part are skipped.
nlohmann::json rebuild_message(std::string message_id, std::string created_at,
                               std::string_view lines);

class DataStream {
 public:
  DataStream(PartSink& sink, MessageBuilder& builder) : sink_(sink), builder_(builder) {}
  // Writes the part and applies it to the message. Returns false once the reader is gone (the
  // message and the sink still get every part: they are what the reply produced).
  bool emit(char code, const nlohmann::json& value);
  // An empty line: the client skips it, proxies see traffic.
  bool keep_alive();
  bool reader_gone() const { return gone_; }

 private:
  PartSink& sink_;
  MessageBuilder& builder_;
  bool gone_ = false;
};

}  // namespace chatd::llm
