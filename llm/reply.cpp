#include "llm/reply.hpp"

#include <mutex>
#include <system_error>
#include <thread>

#include "llm/conversation.hpp"
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
  bool behind() const override { return inner_.behind(); }
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

// The calls of one step on a thread of their own; their results come back to the loop, unless
// the reply abandoned them meanwhile (an interrupt does not wait for tools).
class ToolCalls : public std::enable_shared_from_this<ToolCalls> {
 public:
  static std::shared_ptr<ToolCalls> start(base::EventLoop& loop, ToolRunner& tools,
                                          std::vector<ToolCallDone> calls,
                                          std::function<void(std::vector<json>)> done) {
    auto self = std::make_shared<ToolCalls>();
    self->loop_ = &loop;
    self->done_ = std::move(done);
    auto failed = [n = calls.size()](const std::string& why) {
      return std::vector<json>(n, json{{"error", "tools failed: " + why}});
    };
    try {
      std::thread([self, &tools, calls = std::move(calls), failed] {
        std::vector<json> outputs;
        try {
          outputs = tools.run(calls);
        } catch (const std::exception& e) {
          outputs = failed(e.what());
        }
        self->deliver(std::move(outputs));
      }).detach();
    } catch (
        const std::system_error& e) {  // no thread to be had: the calls fail, the reply goes on
      self->deliver(failed(e.what()));
    }
    return self;
  }
  // On the loop: the results, should they come, are dropped.
  void abandon() {
    std::lock_guard lock(mutex_);
    loop_ = nullptr;
  }

 private:
  void deliver(std::vector<json> outputs) {
    std::lock_guard lock(mutex_);
    if (!loop_) return;
    loop_->post([self = shared_from_this(), outputs = std::move(outputs)]() mutable {
      std::function<void(std::vector<json>)> done;
      {
        std::lock_guard lock(self->mutex_);
        if (!self->loop_) return;
        self->loop_ = nullptr;
        done = std::move(self->done_);
      }
      done(std::move(outputs));
    });
  }
  std::mutex mutex_;
  base::EventLoop* loop_ = nullptr;  // null once abandoned or delivered
  std::function<void(std::vector<json>)> done_;
};

}  // namespace

class Reply::Machine {
 public:
  Machine(ReplyInputs inputs, PartSink& sink)
      : in_(std::move(inputs)),
        sink_(sink),
        builder_(in_.message_id, in_.created_at),
        stream_(sink_, builder_),
        history_(in_.request.messages) {}
  ~Machine();
  void start();  // on the next round of the loop: on_end never comes from inside start()
  void writable();
  std::optional<Reply::CallInFlight> call_in_flight() const {
    if (state_ != State::kStreaming || status_seen_ != 200) return std::nullopt;
    return Reply::CallInFlight{calls_ + 1, mapper_->usage()};
  }

 private:
  // Where the reply is: each state waits for one thing.
  enum class State {
    kStarting,
    kStreaming,  // a provider transfer (transfer_)
    kRetryWait,  // the back-off before the next attempt (wait_timer_)
    kTools,      // the step's tool calls (tools_)
    kAllowance,  // before_model_call's answer for the next step
    kTitleWait,  // the title, at the end (wait_timer_ bounds it)
    kDone,
  };
  struct Step {
    bool started = false;  // something of this step reached the stream
    std::vector<ToolCallDone> calls;
    std::optional<StepFinish> finish;
    std::optional<std::string> error;
  };

  // Runs one of the loop's calls into the reply: an exception ends the reply with its error part.
  template <class F>
  void guarded(F&& f);
  bool emit(char code, const json& value);
  void start_step(Step& step);
  void apply(const ModelEvent& event, Step& step);
  void deliver();
  bool tick();
  void on_timer();
  void begin();
  void begin_step();
  void attempt();
  Upstream::Take on_data(std::string_view bytes);
  void on_done(HttpResult result);
  void report(long status, UpstreamFailure failure);
  void step_done();
  void run_tools();
  void tools_done(std::vector<json> outputs);
  void next_step();
  void end_reply();
  void conclude();
  void fail();
  void poll_title(bool last, bool announce = true);
  bool stopping() const {
    return interrupted_ || failed_ || cut_ ||
           (stream_.reader_gone() && in_.options.on_disconnect == OnDisconnect::kStop);
  }
  // The finish reason of a reply that stopped before the model ended it.
  FinishReason stop_reason() const {
    return cut_ && !interrupted_ ? FinishReason::kLength : FinishReason::kStop;
  }

  ReplyInputs in_;
  TimedSink sink_;
  MessageBuilder builder_;
  DataStream stream_;
  const json history_;
  State state_ = State::kStarting;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
  base::EventLoop::TimerId tick_timer_ = 0;
  base::EventLoop::TimerId wait_timer_ = 0;
  int index_ = 0;  // of the step
  Step step_;
  HttpCall call_;
  int attempt_ = 0;
  SseParser parser_;
  std::unique_ptr<StreamMapper> mapper_;
  std::vector<SseEvent> sse_;
  std::vector<ModelEvent> events_;
  Upstream::Id transfer_ = 0;
  long status_seen_ = 0;         // of the transfer, once its body began
  bool answered_ = false;        // the step's last attempt had a 200: a call to record
  int calls_ = 0;                // answered calls that ended
  bool internal_error_ = false;  // an exception inside on_data: the reply fails at on_done
  std::shared_ptr<ToolCalls> tools_;
  std::function<void()> abandon_title_;
  std::optional<std::string> title_generated_;  // came ("" : none)
  bool title_done_ = false;
  bool started_ = false;  // the first step began
  bool interrupted_ = false;
  bool failed_ = false;  // on_tick answered kFail
  bool cut_ = false;     // the parts reached max_message_bytes
  FinishReason finish_reason_ = FinishReason::kStop;
  ReplyResult result_;
};

template <class F>
void Reply::Machine::guarded(F&& f) {
  if (state_ == State::kDone) return;
  try {
    f();
  } catch (const std::exception&) {
    // Out of memory or threads, say: after the 200 only the stream can say so (its last
    // part), and the reply is stored as far as it got, as failed.
    fail();
  }
}

Reply::Machine::~Machine() {
  *alive_ = false;
  if (transfer_) in_.upstream.abort(transfer_);
  if (tick_timer_) in_.loop.cancel(tick_timer_);
  if (wait_timer_) in_.loop.cancel(wait_timer_);
  if (tools_) tools_->abandon();
  if (abandon_title_) abandon_title_();
}

bool Reply::Machine::emit(char code, const json& value) {
  if (in_.observer) in_.observer->part(code);
  return stream_.emit(code, value);
}

void Reply::Machine::start_step(Step& step) {
  if (step.started) return;
  step.started = true;
  started_ = true;
  emit('f', {{"messageId", in_.message_id}});
}

void Reply::Machine::apply(const ModelEvent& event, Step& step) {
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

void Reply::Machine::deliver() {
  for (const auto& e : sse_) mapper_->on_event(e, events_);
  sse_.clear();
  for (const auto& e : events_) apply(e, step_);
  events_.clear();
}

// With every provider chunk and every tick_interval: keep the connection alive, announce a
// finished title, and say whether to go on.
bool Reply::Machine::tick() {
  if (Clock::now() - sink_.last_write() >= in_.options.keepalive_interval) stream_.keep_alive();
  if (in_.options.max_message_bytes != 0 && sink_.written() >= in_.options.max_message_bytes)
    cut_ = true;
  if (in_.on_tick) {
    TickVerdict verdict = in_.on_tick();
    if (verdict == TickVerdict::kStop) interrupted_ = true;
    if (verdict == TickVerdict::kFail) failed_ = true;
  }
  poll_title(false);
  return !stopping();
}

// The reply's clock: what has no news of its own (a silent provider, a back-off, tools, the
// title) learns here that the reply must stop.
void Reply::Machine::on_timer() {
  tick_timer_ = in_.loop.after(in_.options.tick_interval, [this] {
    tick_timer_ = 0;
    on_timer();
  });
  guarded([&] {
    if (tick()) return;
    switch (state_) {
      case State::kStreaming:
        in_.upstream.abort(transfer_);
        transfer_ = 0;
        report(status_seen_, UpstreamFailure::kNone);
        step_done();
        break;
      case State::kRetryWait:
        in_.loop.cancel(wait_timer_);
        wait_timer_ = 0;
        step_done();
        break;
      case State::kTools:
        tools_->abandon();
        tools_done({});
        break;
      case State::kAllowance:
        finish_reason_ = stop_reason();
        end_reply();
        break;
      case State::kTitleWait:
        conclude();
        break;
      case State::kStarting:
      case State::kDone:
        break;
    }
  });
}

// Stores a finished title and announces it — after the first `f`, so that every stream starts
// with its step. `last` (the reply is over) takes what there is: the title, or the fallback.
void Reply::Machine::poll_title(bool last, bool announce) {
  if (!in_.title || title_done_) return;
  bool ready = title_generated_.has_value();
  if (!last && (!ready || !started_)) return;
  std::string title = ready && !title_generated_->empty() ? *title_generated_ : in_.title->fallback;
  title_done_ = true;
  if (abandon_title_ && !ready) abandon_title_();
  abandon_title_ = nullptr;
  in_.title->store(title);
  if (announce && started_ && !stream_.reader_gone())
    emit('2', json::array({{{"type", "chat-title"}, {"title", title}}}));
}

void Reply::Machine::start() {
  in_.loop.post([this, alive = alive_] {
    if (*alive) begin();
  });
}

void Reply::Machine::begin() {
  if (in_.observer) in_.observer->reply_started();
  tick_timer_ = in_.loop.after(in_.options.tick_interval, [this] {
    tick_timer_ = 0;
    on_timer();
  });
  guarded([&] {
    if (in_.tools) in_.request.tools = in_.tools->tools();
    if (in_.title) {
      abandon_title_ = in_.title->start([this, alive = alive_](std::string title) {
        if (!*alive) return;
        abandon_title_ = nullptr;
        title_generated_ = std::move(title);
        guarded([&] {
          if (state_ == State::kTitleWait) {
            conclude();
          } else {
            poll_title(false);
          }
        });
      });
    }
    begin_step();
  });
}

void Reply::Machine::begin_step() {
  if (index_ >= in_.options.max_steps) return end_reply();
  in_.request.messages = history_;
  if (!builder_.empty()) in_.request.messages.push_back(builder_.message());
  step_ = Step{};
  attempt_ = 0;
  // Interrupted (or unstorable) before the step begins: no model call is made for it.
  if (!tick()) return step_done();
  // A file of the newest message that this provider cannot take is said plainly: no call.
  if (index_ == 0) {
    auto refusal = refused_attachment(in_.request, [&](std::string_view type, bool remote) {
      return in_.provider.takes_file(type, remote);
    });
    if (refusal) {
      step_.error = std::move(*refusal);
      return step_done();
    }
  }
  call_ = in_.provider.stream_call(in_.request);
  attempt();
}

void Reply::Machine::attempt() {
  ++attempt_;
  parser_ = SseParser();
  mapper_ = in_.provider.new_stream_mapper();
  sse_.clear();
  events_.clear();
  status_seen_ = 0;
  state_ = State::kStreaming;
  Upstream::Handlers handlers;
  handlers.on_data = [this](std::string_view bytes) { return on_data(bytes); };
  handlers.on_done = [this](HttpResult result) { guarded([&] { on_done(std::move(result)); }); };
  transfer_ = in_.upstream.start(call_, std::move(handlers));
}

Upstream::Take Reply::Machine::on_data(std::string_view bytes) {
  // The reader is behind: the provider waits (back-pressure), the bytes come again later.
  if (sink_.behind()) return Upstream::Take::kFull;
  status_seen_ = 200;
  try {
    parser_.feed(bytes, sse_);
    deliver();
    return tick() && !step_.error ? Upstream::Take::kTaken : Upstream::Take::kAbort;
  } catch (const std::exception&) {
    internal_error_ = true;  // failed at on_done: the transfer cannot be dropped from in here
    return Upstream::Take::kAbort;
  }
}

void Reply::Machine::writable() {
  // Ignored unless the transfer is paused; else it may hand the held bytes to on_data at once.
  if (state_ == State::kStreaming && transfer_) in_.upstream.resume(transfer_);
}

void Reply::Machine::report(long status, UpstreamFailure failure) {
  if (in_.observer) in_.observer->upstream_call(in_.provider.type(), status, failure);
}

void Reply::Machine::on_done(HttpResult result) {
  transfer_ = 0;
  answered_ = result.status == 200;
  if (internal_error_) return fail();
  std::string name(display_name(in_.provider.type()));
  if (stopping()) {
    report(result.status, UpstreamFailure::kNone);
    return step_done();
  }
  if (result.status == 200) {
    if (!result.error.empty() && !step_.error) {
      // Cut or stalled mid-stream: what arrived counts, then the failure.
      step_.error = name + (result.stalled ? " sent nothing for too long"
                                           : " connection lost: " + result.error);
      report(200, result.stalled ? UpstreamFailure::kStalled : UpstreamFailure::kDropped);
      return step_done();
    }
    if (step_.error) {
      report(200, UpstreamFailure::kStream);
      return step_done();
    }
    parser_.finish(sse_);
    deliver();
    bool provider_error = step_.error.has_value();
    mapper_->on_end(events_);  // a StreamError here means the stream was cut short
    for (const auto& e : events_) apply(e, step_);
    events_.clear();
    if (!step_.finish && !step_.error) step_.error = name + " stream ended unexpectedly";
    report(200, provider_error ? UpstreamFailure::kStream
                : step_.error  ? UpstreamFailure::kDropped
                               : UpstreamFailure::kNone);
    return step_done();
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
  const auto& options = in_.options;
  if (!error.retryable || step_.started || attempt_ >= options.max_attempts) {
    step_.error = error.message;
    return step_done();
  }
  // Back off (or as the provider asked); the reply's clock watches the client meanwhile.
  auto wait = std::chrono::milliseconds(500 * (1 << (attempt_ - 1)));
  if (error.retry_after_seconds) {
    // Compared before the conversion, which a huge Retry-After would overflow.
    double asked = *error.retry_after_seconds * 1000;
    wait = asked > static_cast<double>(options.max_retry_wait.count())
               ? options.max_retry_wait + std::chrono::milliseconds(1)
               : std::chrono::milliseconds(static_cast<long long>(asked));
  }
  if (wait > options.max_retry_wait) {
    step_.error = error.message;
    return step_done();
  }
  if (in_.observer) in_.observer->upstream_retry(in_.provider.type());
  state_ = State::kRetryWait;
  wait_timer_ = in_.loop.after(wait, [this] {
    wait_timer_ = 0;
    guarded([&] { attempt(); });
  });
}

// The step's model call is over (answered, failed, or stopped).
void Reply::Machine::step_done() {
  if (answered_) {
    ++calls_;
    if (in_.on_model_call) in_.on_model_call(calls_, mapper_->usage());
  }
  if (stopping()) {
    if (step_.started && !failed_)  // a failure's error part ends the stream instead
      emit('e', {{"finishReason", wire(stop_reason())},
                 {"usage", usage_json({})},
                 {"isContinued", false}});
    finish_reason_ = stop_reason();
    return end_reply();
  }
  if (step_.error) {
    result_.error = *step_.error;
    finish_reason_ = FinishReason::kError;
    emit('3', result_.error);
    return end_reply();
  }
  start_step(step_);  // a response with no output is still a step
  if (step_.calls.empty()) return tools_done({});
  run_tools();
}

void Reply::Machine::run_tools() {
  if (!in_.tools) {
    std::vector<json> outputs;
    for (const auto& call : step_.calls)
      outputs.push_back({{"error", "unknown tool \"" + call.name + "\""}});
    return tools_done(std::move(outputs));
  }
  state_ = State::kTools;
  tools_ = ToolCalls::start(in_.loop, *in_.tools, step_.calls, [this](std::vector<json> outputs) {
    guarded([&] { tools_done(std::move(outputs)); });
  });
}

// The step's tool results (none when the calls were abandoned).
void Reply::Machine::tools_done(std::vector<json> outputs) {
  tools_.reset();
  state_ = State::kStarting;
  for (size_t i = 0; i < outputs.size() && i < step_.calls.size(); ++i)
    emit('a', {{"toolCallId", step_.calls[i].id}, {"result", outputs[i]}});
  add_usage(result_.usage, step_.finish->usage);
  // An interrupt during the tools ends the reply here, as "stop".
  finish_reason_ = stopping() ? stop_reason() : step_.finish->finish_reason;
  emit('e', {{"finishReason", wire(finish_reason_)},
             {"usage", usage_json(step_.finish->usage)},
             {"isContinued", false}});
  if (stopping()) {
    finish_reason_ = stop_reason();
    return end_reply();
  }
  if (finish_reason_ != FinishReason::kToolCalls || step_.calls.empty()) return end_reply();
  next_step();
}

// The model is to be called again: if it may be.
void Reply::Machine::next_step() {
  ++index_;
  if (!in_.before_model_call || index_ >= in_.options.max_steps) return begin_step();
  state_ = State::kAllowance;
  in_.before_model_call([this, alive = alive_](std::string refusal) {
    if (!*alive || state_ != State::kAllowance) return;  // stopped meanwhile
    guarded([&] {
      state_ = State::kStarting;
      if (refusal.empty()) return begin_step();
      result_.error = std::move(refusal);
      finish_reason_ = FinishReason::kError;
      emit('3', result_.error);
      end_reply();
    });
  });
}

void Reply::Machine::end_reply() {
  if (failed_ && result_.error.empty()) {
    result_.error = kUnstorable;
    finish_reason_ = FinishReason::kError;
    emit('3', result_.error);
  }
  // A title still coming gets up to title_wait, the reply ticking meanwhile: its heartbeat is
  // what tells the other workers' recovery that it is alive.
  if (result_.error.empty() && in_.title && !title_done_ && !title_generated_ && !stopping()) {
    state_ = State::kTitleWait;
    wait_timer_ = in_.loop.after(in_.options.title_wait, [this] {
      wait_timer_ = 0;
      guarded([&] { conclude(); });
    });
    return;
  }
  conclude();
}

void Reply::Machine::conclude() {
  if (wait_timer_) in_.loop.cancel(wait_timer_);
  wait_timer_ = 0;
  if (result_.error.empty()) {
    poll_title(/*last=*/true);
    emit('d', {{"finishReason", wire(finish_reason_)}, {"usage", usage_json(result_.usage)}});
  } else {
    // Stored all the same (the generated title if it is there, else the fallback) but not
    // announced: the error part ends the stream.
    poll_title(/*last=*/true, /*announce=*/false);
  }
  state_ = State::kDone;
  if (tick_timer_) in_.loop.cancel(tick_timer_);
  tick_timer_ = 0;
  result_.message = builder_.message();
  result_.finish_reason = finish_reason_;
  result_.reader_gone = stream_.reader_gone();
  result_.interrupted =
      interrupted_ || (stream_.reader_gone() && in_.options.on_disconnect == OnDisconnect::kStop);
  if (in_.observer) in_.observer->reply_finished(&result_);
  if (auto on_end = std::move(in_.on_end)) on_end(std::move(result_));
}

void Reply::Machine::fail() {
  if (state_ == State::kDone) return;
  if (transfer_) in_.upstream.abort(transfer_);
  transfer_ = 0;
  if (tools_) tools_->abandon();
  tools_.reset();
  try {
    result_.error = "The reply failed: internal server error.";
    finish_reason_ = FinishReason::kError;
    emit('3', result_.error);
    conclude();
  } catch (const std::exception&) {
    // Not even that: the reply ends with what it has.
    state_ = State::kDone;
    if (tick_timer_) in_.loop.cancel(tick_timer_);
    tick_timer_ = 0;
    if (in_.observer) in_.observer->reply_finished(nullptr);
    result_.finish_reason = FinishReason::kError;
    if (auto on_end = std::move(in_.on_end)) on_end(std::move(result_));
  }
}

Reply::Reply(ReplyInputs inputs, PartSink& sink)
    : machine_(std::make_unique<Machine>(std::move(inputs), sink)) {}

Reply::~Reply() = default;

void Reply::start() { machine_->start(); }

void Reply::writable() { machine_->writable(); }

std::optional<Reply::CallInFlight> Reply::call_in_flight() const {
  return machine_->call_in_flight();
}

}  // namespace chatd::llm
