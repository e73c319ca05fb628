// fake_provider: what one reply looks like (Plan) and how it is written in each provider's
// wire format (StreamRenderer for streams, render_full for non-streamed replies).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fake {

enum class Provider { kOpenAI, kAnthropic, kGoogle };

const char* provider_name(Provider p);

// One step of the reply, in order. Deltas (kText, kReason, kToolArgs and Gemini's kToolStart)
// are the "tokens": they are paced and counted.
enum class OpKind {
  kTextStart,
  kText,
  kTextEnd,
  kReasonStart,
  kReason,
  kReasonEnd,
  kToolStart,
  kToolArgs,
  kToolEnd
};

struct Op {
  OpKind kind;
  int delay_ms = 0;  // wait this long before sending the op
  int tool = 0;      // kTool*: index into Plan::tools (-1 on Gemini's kToolStart: all calls)
  std::string text;  // kText / kReason / kToolArgs
};

struct ToolCall {
  std::string id;
  std::string name;
  std::string args_json;  // compact JSON object
  std::string signature;  // Gemini thoughtSignature, empty: none
};

enum class Ending {
  kFinish,          // the provider's normal terminator
  kMidstreamError,  // the provider's in-stream error event, then the body ends
  kStall,           // nothing more; the connection stays open
  kCut,             // the socket is closed without a terminator
};

struct Plan {
  Provider provider = Provider::kOpenAI;
  std::string model;
  bool gemini_sse = true;      // Gemini: alt=sse framing, else one JSON array
  bool include_usage = false;  // OpenAI stream_options.include_usage
  std::vector<Op> ops;
  std::vector<ToolCall> tools;
  Ending ending = Ending::kFinish;
  int initial_delay_ms = 0;  // before anything (status line included) is sent
  int prompt_tokens = 10;
  int completion_tokens = -1;  // -1: the number of tokens sent
  // Reported in each provider's own fields (OpenAI: cached and reasoning details of its prompt
  // and completion; Anthropic: cache_read/cache_creation_input_tokens beside input_tokens;
  // Gemini: cachedContentTokenCount within promptTokenCount, thoughtsTokenCount beside the
  // candidates). 0: not reported.
  int cache_read_tokens = 0;
  int cache_write_tokens = 0;
  int reasoning_tokens = 0;
  uint64_t seq = 0;  // makes ids unique
};

bool is_delta(const Op& op, Provider p);

// Writes a Plan as a streamed body, op by op.
class StreamRenderer {
 public:
  enum Result { kWait, kDone, kStall, kCut };

  explicit StreamRenderer(Plan plan);

  // Appends to `out` every op that is due now (the first call also writes the preamble;
  // later calls first send the op whose delay has just elapsed). Returns kWait with
  // `delay_ms` set to the wait before the next call, or how the body ends.
  Result advance(std::string& out, int& delay_ms);

  const Plan& plan() const { return plan_; }
  int tokens_sent() const { return tokens_sent_; }

 private:
  void preamble(std::string& out);
  void render(const Op& op, bool last, std::string& out);  // last: Gemini's last chunk
  void ending(std::string& out);
  int completion() const;

  // Provider helpers.
  void openai_chunk(std::string& out, std::string_view delta, std::string_view finish);
  void anthropic_event(std::string& out, std::string_view type, std::string_view json);
  void gemini_chunk(std::string& out, std::string_view parts, bool final);
  void gemini_frame(std::string& out, std::string_view json);

  Plan plan_;
  size_t pos_ = 0;
  bool started_ = false;
  bool role_pending_ = false;  // OpenAI: the first tool-call delta carries the role
  bool final_sent_ = false;    // Gemini: finishReason already sent with the last text chunk
  bool ping_sent_ = false;     // Anthropic: one ping after the first block start
  bool gemini_first_frame_ = true;
  int block_ = -1;            // Anthropic content block index
  size_t last_chunk_op_ = 0;  // Gemini: the last op that writes a chunk
  int tokens_sent_ = 0;
  std::string openai_prefix_;  // `data: {"id":…,"choices":[{"index":0,"delta":`
  std::string gemini_suffix_;  // `,"modelVersion":…,"responseId":…}`
};

// A whole non-streamed reply (stream:false / :generateContent) as its JSON body.
std::string render_full(const Plan& plan);

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

}  // namespace fake
