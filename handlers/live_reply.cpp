#include "handlers/live_reply.hpp"

#include "base/clock.hpp"
#include "base/json_text.hpp"
#include "handlers/observer.hpp"
#include "handlers/replies.hpp"
#include "handlers/reply_store_thread.hpp"
#include "handlers/usage.hpp"
#include "llm/price.hpp"

namespace chatd::http {

namespace {

// The reply's parts, written to its response.
class ResponseSink : public llm::PartSink {
 public:
  explicit ResponseSink(LiveResponse& out) : out_(out) {}
  bool write_line(std::string_view line) override { return out_.write(line); }
  bool behind() const override { return out_.behind(); }

 private:
  LiveResponse& out_;
};

class LiveReply {
 public:
  LiveReply(Context& context, LiveReplyStart start)
      : context_(context),
        start_(std::move(start)),
        client_(*start_.out),
        recorder_(context, start_.chat_id, start_.message_id, client_) {
    if (start_.cancelled) context.replies.cancel(start_.chat_id);
  }

  // On the loop.
  void run() {
    auto& loop = context_.reply_loop->loop;
    start_.out->attach(loop, [this] {
      if (reply_) reply_->writable();
    });
    const llm::Model& model = start_.model;
    Observer& observer = context_.observer ? *context_.observer : no_observer();
    llm::ReplyInputs inputs{*model.provider,
                            context_.reply_loop->upstream,
                            loop,
                            {},
                            start_.message_id,
                            base::now_rfc3339(),
                            context_.tools,
                            std::nullopt,
                            nullptr,
                            context_.reply.options,
                            observer.replies(),
                            nullptr,
                            nullptr,
                            nullptr};
    inputs.request.model = model.id;
    inputs.request.system_prompt = context_.reply.system_prompt;
    inputs.request.messages = std::move(start_.history);
    inputs.request.thinking = start_.thinking;
    inputs.request.cache_key = start_.chat_id;
    inputs.on_tick = [this] { return recorder_.tick(); };
    inputs.on_model_call = [this](int number, const llm::Usage& usage) {
      record_call(number, usage);
    };
    inputs.before_model_call = [allowance = allowance_](std::function<void(std::string)> answer) {
      if (allowance->answer) return answer(*allowance->answer);
      allowance->waiting = std::move(answer);
    };
    if (start_.title_from) {
      inputs.title = llm::TitleJob{
          llm::title_request(*model.provider, context_.reply_loop->upstream, model.id,
                             std::move(*start_.title_from), observer.replies(),
                             [this](const llm::Usage& usage) { record_call(std::nullopt, usage); }),
          start_.fallback_title, [this](const std::string& title) {
            context_.reply_loop->store.run(
                [&chats = context_.store.chats, chat_id = start_.chat_id, title] {
                  try {
                    chats.set_title(chat_id, title);
                  } catch (...) {
                    // A title that cannot be stored never fails the reply.
                  }
                },
                nullptr);
          }};
    }
    inputs.on_end = [this](llm::ReplyResult result) { stored(std::move(result)); };
    reply_.emplace(std::move(inputs), recorder_);
    recorder_.watch_calls([this] { return call_in_flight(); });
    reply_->start();
  }

  // run() threw (out of memory, say): the stream ends with its error part, the reply as failed.
  void fail_to_start() {
    llm::ReplyResult result;
    result.error = "The reply failed: internal server error.";
    result.finish_reason = llm::FinishReason::kError;
    result.message = {{"parts", nlohmann::json::array()}};
    recorder_.write_line(llm::encode_part('3', result.error));
    stored(std::move(result));
  }

 private:
  // Whether the reply may call the model again: the budget as the statement recording its last
  // step's call found it ("": yes; else the `3:` text). No answer while that statement runs.
  struct Allowance {
    std::optional<std::string> answer = "";
    std::function<void(std::string)> waiting;  // a before_model_call waiting for the answer
  };

  // What the call cost: none without a price, or when it reported nothing (no known cost).
  std::optional<long long> cost_of(const llm::Usage& usage) const {
    auto price = context_.reply.prices.find(start_.model.id);
    if (price == context_.reply.prices.end() || !(usage.prompt_tokens || usage.completion_tokens))
      return std::nullopt;
    return llm::cost_micros(usage, price->second);
  }

  // The step call in flight, for the checkpoints (recovery records it if this worker dies).
  std::optional<sql::OpenCall> call_in_flight() const {
    if (!reply_) return std::nullopt;
    auto call = reply_->call_in_flight();
    if (!call) return std::nullopt;
    const llm::Usage& usage = call->usage;
    return sql::OpenCall{call->number,
                         usage.uncached_input(),
                         usage.completion_tokens,
                         usage.cache_read_tokens,
                         usage.cache_write_tokens,
                         usage.reasoning_tokens,
                         cost_of(usage)};
  }

  // A model call's line in the usage ledger (a step's, with its number; none: the title's),
  // written on the loop's database thread: one statement, which also answers whether the
  // user's budget allows another step. Nothing before the first byte waits for it; the next
  // step does (it runs while the tools do).
  void record_call(std::optional<int> step, const llm::Usage& usage) {
    const auto& model = start_.model;
    sql::ModelCallRecord call{start_.user_id,
                              start_.chat_id,
                              start_.message_id,
                              step ? "step" : "title",
                              model.id,
                              model.provider_type,
                              usage.uncached_input(),
                              usage.completion_tokens,
                              usage.cache_read_tokens,
                              usage.cache_write_tokens,
                              usage.reasoning_tokens,
                              cost_of(usage),
                              step};
    if (context_.observer)
      if (auto* counts = context_.observer->replies())
        counts->model_call(model.id, !step, usage, call.cost_micros);
    if (step) allowance_->answer.reset();
    auto budget = std::make_shared<std::optional<sql::BudgetState>>();
    std::function<void()> answer;  // a step's: whether another may follow
    if (step)
      answer = [allowance = allowance_, budget] {
        allowance->answer = *budget && (*budget)->reached() ? std::string(kUsageLimitReached) +
                                                                  " " + usage_limit_detail(**budget)
                                                            : "";
        if (auto waiting = std::move(allowance->waiting)) {
          allowance->waiting = nullptr;
          waiting(*allowance->answer);
        }
      };
    context_.reply_loop->store.run(
        [&ledger = context_.store.usage, call = std::move(call), budget,
         default_budget = context_.reply.budget] {
          try {
            *budget = ledger.record(call, default_budget);
          } catch (...) {
            // The database is failing: the reply's own record says so; the reply goes on.
          }
        },
        std::move(answer));
  }

  // The reply is over: store it, then end the response, then this.
  void stored(llm::ReplyResult result) {
    ResponseEnd end{std::string(llm::wire_name(result.finish_reason)),
                    result.error,
                    {},
                    result.usage.prompt_tokens,
                    result.usage.completion_tokens};
    // Model text may hold invalid UTF-8: it is stored with U+FFFD, as it was streamed.
    recorder_.finish(base::json_text(result.message), result.finish_reason, result.interrupted,
                     result.usage, [this, end = std::move(end)]() mutable {
                       end.failure = recorder_.failure();
                       start_.out->finish(end);
                       context_.reply_loop->loop.post([this] { delete this; });
                     });
  }

  Context& context_;
  LiveReplyStart start_;
  ResponseSink client_;
  ReplyRecorder recorder_;
  // Before reply_: a title abandoned as the reply is destroyed is recorded through it.
  std::shared_ptr<Allowance> allowance_ = std::make_shared<Allowance>();
  std::optional<llm::Reply> reply_;
};

}  // namespace

void start_live_reply(Context& context, LiveReplyStart start) {
  auto* reply = new LiveReply(context, std::move(start));
  context.reply_loop->loop.post([reply] {
    try {
      reply->run();
    } catch (const std::exception&) {
      reply->fail_to_start();
    }
  });
}

}  // namespace chatd::http
