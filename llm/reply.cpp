#include "llm/reply.hpp"

#include <system_error>
#include <thread>

#include "llm/provider_registry.hpp"
#include "llm/sse_parser.hpp"

namespace chatd::llm {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// Notes when the sink last wrote (for keep-alives) and how much (for max_message_bytes).
class TimedSink : public PartSink {
 public:
  explicit TimedSink(PartSink& inner) : inner_(inner) {}
  bool write_line(std::string_view line) override {
    last_write_ = Clock::now();
    if (line != "\n") written_ += line.size();
    return inner_.write_line(line);
  }
  Clock::time_point last_write() const { return last_write_; }
  uint64_t written() const { return written_; }  // bytes of parts, keep-alives left out

 private:
  PartSink& inner_;
  Clock::time_point last_write_ = Clock::now();
  uint64_t written_ = 0;
};

json wire(FinishReason reason) { return std::string(wire_name(reason)); }

json usage_json(const Usage& usage) {
  return {{"promptTokens", usage.prompt_tokens.value_or(0)},
          {"completionTokens", usage.completion_tokens.value_or(0)}};
}

void add_usage(Usage& total, const Usage& step) {
  if (step.prompt_tokens)
    total.prompt_tokens = total.prompt_tokens.value_or(0) + *step.prompt_tokens;
  if (step.completion_tokens)
    total.completion_tokens = total.completion_tokens.value_or(0) + *step.completion_tokens;
}

class Reply {
 public:
  Reply(ReplyInputs& in, PartSink& sink)
      : in_(in), sink_(sink), builder_(in.message_id, in.created_at), stream_(sink_, builder_) {}

  ReplyResult run();
  // After an exception escaped run(): the error part, and the message as far as it got.
  ReplyResult fail();

 private:
  struct Step {
    bool started = false;  // something of this step reached the stream
    std::vector<ToolCallDone> calls;
    std::optional<StepFinish> finish;
    std::optional<std::string> error;
  };

  bool emit(char code, const json& value);
  void start_step(Step& step);
  void apply(const ModelEvent& event, Step& step);
  bool tick();
  void run_step(Step& step);
  void poll_title(bool last, bool announce = true);
  void await_title();
  bool stopping() const {
    return interrupted_ || failed_ || cut_ ||
           (stream_.reader_gone() && in_.options.on_disconnect == OnDisconnect::kStop);
  }
  // The finish reason of a reply that stopped before the model ended it.
  FinishReason stop_reason() const {
    return cut_ && !interrupted_ ? FinishReason::kLength : FinishReason::kStop;
  }
  std::vector<json> run_tools(const std::vector<ToolCallDone>& calls);

  ReplyInputs& in_;
  TimedSink sink_;
  MessageBuilder builder_;
  DataStream stream_;
  bool title_done_ = false;
  bool started_ = false;  // the first step began
  bool interrupted_ = false;
  bool failed_ = false;  // on_tick answered kFail
  bool cut_ = false;     // the parts reached max_message_bytes
};

bool Reply::emit(char code, const json& value) {
  if (in_.observer) in_.observer->part(code);
  return stream_.emit(code, value);
}

void Reply::start_step(Step& step) {
  if (step.started) return;
  step.started = true;
  started_ = true;
  emit('f', {{"messageId", in_.message_id}});
}

void Reply::apply(const ModelEvent& event, Step& step) {
  if (step.error || step.finish) return;
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, StreamError>) {
          step.error = e.message;
        } else if constexpr (std::is_same_v<T, StepFinish>) {
          step.finish = e;
        } else if constexpr (std::is_same_v<T, TextDelta>) {
          if (e.text.empty()) return;
          start_step(step);
          emit('0', e.text);
        } else if constexpr (std::is_same_v<T, ReasoningDelta>) {
          if (e.text.empty()) return;
          start_step(step);
          emit('g', e.text);
        } else if constexpr (std::is_same_v<T, ReasoningSignature>) {
          start_step(step);
          emit('j', {{"signature", e.signature}});
        } else if constexpr (std::is_same_v<T, RedactedReasoning>) {
          start_step(step);
          emit('i', {{"data", e.data}});
        } else if constexpr (std::is_same_v<T, ToolCallDone>) {
          start_step(step);
          json call = {{"toolCallId", e.id}, {"toolName", e.name}, {"args", e.args}};
          if (!e.provider_metadata.is_null()) call["providerMetadata"] = e.provider_metadata;
          emit('9', call);
          step.calls.push_back(e);
        }
        // ToolCallStart/ToolCallDelta: calls are sent complete (9), not as b/c deltas.
      },
      event);
}

// About once a second while a model or tool call runs: keep the connection alive, announce a
// finished title, and say whether to go on.
bool Reply::tick() {
  if (Clock::now() - sink_.last_write() >= in_.options.keepalive_interval) stream_.keep_alive();
  if (in_.options.max_message_bytes != 0 && sink_.written() >= in_.options.max_message_bytes)
    cut_ = true;
  if (in_.on_tick) {
    TickVerdict verdict = in_.on_tick(builder_);
    if (verdict == TickVerdict::kStop) interrupted_ = true;
    if (verdict == TickVerdict::kFail) failed_ = true;
  }
  poll_title(false);
  return !stopping();
}

// Stores a finished title and announces it — after the first `f`, so that every stream starts
// with its step. `last` (the reply is over) takes what there is: the title, or the fallback.
void Reply::poll_title(bool last, bool announce) {
  if (!in_.title || title_done_) return;
  auto& job = *in_.title;
  bool ready = job.title.wait_for(std::chrono::milliseconds(0)) == std::future_status::ready;
  if (!last && (!ready || !started_)) return;
  std::string title = job.fallback;
  if (ready) {
    try {
      if (auto generated = job.title.get(); !generated.empty()) title = generated;
    } catch (const std::exception&) {
      // A failed title never fails the reply: the fallback stands.
    }
  }
  title_done_ = true;
  job.store(title);
  if (announce && started_ && !stream_.reader_gone())
    emit('2', json::array({{{"type", "chat-title"}, {"title", title}}}));
}

// At the end of a reply a title still coming gets up to `title_wait`, with the reply ticking
// meanwhile: its heartbeat is what tells the other workers' recovery that it is alive.
void Reply::await_title() {
  auto until = Clock::now() + in_.options.title_wait;
  while (in_.title && !title_done_ && !stopping() && Clock::now() < until) {
    auto slice = std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(200));
    if (in_.title->title.wait_for(slice) == std::future_status::ready) break;
    tick();
  }
}

void Reply::run_step(Step& step) {
  // Interrupted (or unstorable) before the step begins: no model call is made for it.
  if (!tick()) return;
  const auto& options = in_.options;
  HttpCall call = in_.provider.stream_call(in_.request);
  std::string name(display_name(in_.provider.type()));
  auto report = [&](long status, UpstreamFailure failure) {
    if (in_.observer) in_.observer->upstream_call(in_.provider.type(), status, failure);
  };
  for (int attempt = 1;; ++attempt) {
    SseParser parser;
    auto mapper = in_.provider.new_stream_mapper();
    std::vector<SseEvent> sse;
    std::vector<ModelEvent> events;
    auto deliver = [&] {
      for (const auto& e : sse) mapper->on_event(e, events);
      sse.clear();
      for (const auto& e : events) apply(e, step);
      events.clear();
    };
    auto on_data = [&](std::string_view bytes) {
      parser.feed(bytes, sse);
      deliver();
      return tick() && !step.error;
    };
    auto on_tick = [&] { return tick(); };
    HttpResult result = in_.transport.stream(call, on_data, on_tick);
    if (stopping()) {
      report(result.status, UpstreamFailure::kNone);
      return;
    }
    if (result.status == 200) {
      if (!result.error.empty() && !step.error) {
        // Cut or stalled mid-stream: what arrived counts, then the failure.
        step.error = name + (result.stalled ? " sent nothing for too long"
                                            : " connection lost: " + result.error);
        report(200, result.stalled ? UpstreamFailure::kStalled : UpstreamFailure::kDropped);
        return;
      }
      if (step.error) {
        report(200, UpstreamFailure::kStream);
        return;
      }
      parser.finish(sse);
      deliver();
      bool provider_error = step.error.has_value();
      mapper->on_end(events);  // a StreamError here means the stream was cut short
      for (const auto& e : events) apply(e, step);
      if (!step.finish && !step.error) step.error = name + " stream ended unexpectedly";
      report(200, provider_error ? UpstreamFailure::kStream
                  : step.error   ? UpstreamFailure::kDropped
                                 : UpstreamFailure::kNone);
      return;
    }
    report(result.status, result.status == 0 ? (result.stalled ? UpstreamFailure::kStalled
                                                               : UpstreamFailure::kConnect)
                                             : UpstreamFailure::kStatus);
    ProviderError error;
    if (result.status == 0) {
      error.message =
          name + " request failed: " + (result.error.empty() ? "no response" : result.error);
      error.retryable = !result.stalled;
    } else {
      error = in_.provider.parse_error(result.status, result.body, result.retry_after);
    }
    if (!error.retryable || step.started || attempt >= options.max_attempts) {
      step.error = error.message;
      return;
    }
    // Back off (or as the provider asked), watching the client meanwhile.
    auto wait = std::chrono::milliseconds(500 * (1 << (attempt - 1)));
    if (error.retry_after_seconds) {
      // Compared before the conversion, which a huge Retry-After would overflow.
      double asked = *error.retry_after_seconds * 1000;
      wait = asked > static_cast<double>(options.max_retry_wait.count())
                 ? options.max_retry_wait + std::chrono::milliseconds(1)
                 : std::chrono::milliseconds(static_cast<long long>(asked));
    }
    if (wait > options.max_retry_wait) {
      step.error = error.message;
      return;
    }
    if (in_.observer) in_.observer->upstream_retry(in_.provider.type());
    auto until = Clock::now() + wait;
    while (Clock::now() < until) {
      if (!tick()) return;
      std::this_thread::sleep_for(
          std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(100)));
    }
  }
}

ReplyResult Reply::run() {
  ReplyResult result;
  const json history = in_.request.messages;
  FinishReason finish_reason = FinishReason::kStop;
  if (in_.tools) in_.request.tools = in_.tools->tools();
  for (int index = 0; index < in_.options.max_steps; ++index) {
    in_.request.messages = history;
    if (!builder_.empty()) in_.request.messages.push_back(builder_.message());
    Step step;
    run_step(step);
    if (stopping()) {
      if (step.started && !failed_)  // a failure's error part ends the stream instead
        emit('e', {{"finishReason", wire(stop_reason())},
                   {"usage", usage_json({})},
                   {"isContinued", false}});
      finish_reason = stop_reason();
      break;
    }
    if (step.error) {
      result.error = *step.error;
      finish_reason = FinishReason::kError;
      emit('3', result.error);
      break;
    }
    start_step(step);  // a response with no output is still a step
    if (!step.calls.empty()) {
      auto outputs = run_tools(step.calls);
      for (size_t i = 0; i < outputs.size(); ++i)
        emit('a', {{"toolCallId", step.calls[i].id}, {"result", outputs.at(i)}});
    }
    add_usage(result.usage, step.finish->usage);
    // An interrupt during the tools ends the reply here, as "stop".
    finish_reason = stopping() ? stop_reason() : step.finish->finish_reason;
    emit('e', {{"finishReason", wire(finish_reason)},
               {"usage", usage_json(step.finish->usage)},
               {"isContinued", false}});
    if (stopping()) {
      finish_reason = stop_reason();
      break;
    }
    if (finish_reason != FinishReason::kToolCalls || step.calls.empty()) break;
  }
  if (failed_ && result.error.empty()) {
    result.error = kUnstorable;
    finish_reason = FinishReason::kError;
    emit('3', result.error);
  }
  if (result.error.empty()) {
    await_title();
    poll_title(/*last=*/true);
    emit('d', {{"finishReason", wire(finish_reason)}, {"usage", usage_json(result.usage)}});
  } else {
    // Stored all the same (the generated title if it is there, else the fallback) but not
    // announced: the error part ends the stream.
    poll_title(/*last=*/true, /*announce=*/false);
  }
  result.message = builder_.message();
  result.finish_reason = finish_reason;
  result.reader_gone = stream_.reader_gone();
  result.interrupted = interrupted_;
  return result;
}

// The calls of one step, on a thread of their own while the stream keeps ticking (keep-alives,
// the title, interrupts). An interrupt abandons them: their results are not waited for.
std::vector<json> Reply::run_tools(const std::vector<ToolCallDone>& calls) {
  if (!in_.tools) {
    std::vector<json> outputs;
    for (const auto& call : calls)
      outputs.push_back({{"error", "unknown tool \"" + call.name + "\""}});
    return outputs;
  }
  auto promise = std::make_shared<std::promise<std::vector<json>>>();
  auto future = promise->get_future();
  try {
    std::thread([tools = in_.tools, calls, promise] {
      try {
        promise->set_value(tools->run(calls));
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    }).detach();
  } catch (const std::system_error&) {  // no thread to be had: the calls fail, the reply goes on
    promise->set_exception(std::current_exception());
  }
  while (future.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready)
    if (!tick()) return {};
  try {
    return future.get();
  } catch (const std::exception& e) {
    return std::vector<json>(calls.size(),
                             json{{"error", std::string("tools failed: ") + e.what()}});
  }
}

ReplyResult Reply::fail() {
  ReplyResult result;
  result.error = "The reply failed: internal server error.";
  result.finish_reason = FinishReason::kError;
  emit('3', result.error);
  poll_title(/*last=*/true, /*announce=*/false);
  result.message = builder_.message();
  result.reader_gone = stream_.reader_gone();
  result.interrupted = interrupted_;
  return result;
}

}  // namespace

ReplyResult run_reply(ReplyInputs inputs, PartSink& sink) {
  ReplyObserver* observer = inputs.observer;
  if (observer) observer->reply_started();
  try {
    Reply reply(inputs, sink);
    ReplyResult result;
    try {
      result = reply.run();
    } catch (const std::exception&) {
      // Out of memory or threads, say: after the 200 only the stream can say so (its last
      // part), and the reply is stored as far as it got, as failed.
      result = reply.fail();
    }
    if (observer) observer->reply_finished(&result);
    return result;
  } catch (...) {
    if (observer) observer->reply_finished(nullptr);
    throw;
  }
}

}  // namespace chatd::llm
