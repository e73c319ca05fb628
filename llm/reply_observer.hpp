// What replies and titles report for the metrics: an observer that worker/ implements over the
// counters every worker shares, and the kinds of failed provider calls.
#pragma once

#include <optional>
#include <string_view>

namespace chatd::llm {

struct ReplyResult;
struct Usage;

// How one call to a provider ended, for the metrics.
enum class UpstreamFailure {
  kNone,     // answered (200, streamed to its end), or stopped by us
  kStatus,   // an HTTP error status
  kConnect,  // no HTTP response (cannot connect, reset, timeout)
  kStalled,  // silent for longer than the idle timeout
  kDropped,  // the stream was cut or ended without its finish
  kStream,   // the provider reported an error inside the stream
};

// Counts what replies do; worker/ implements it over counters shared by every worker. The
// methods must be cheap and must not throw; upstream_call may come from another thread (the
// title runs on its own).
class ReplyObserver {
 public:
  virtual ~ReplyObserver() = default;
  virtual void reply_started() {}
  // `result` is null when the reply ended with an exception.
  virtual void reply_finished(const ReplyResult* /*result*/) {}
  // One part sent to the stream (keep-alives are not parts).
  virtual void part(char /*code*/) {}
  // One HTTP call to a provider (`provider` is its type); `status` is 0 without a response.
  virtual void upstream_call(std::string_view /*provider*/, long /*status*/, UpstreamFailure) {}
  // A failed call is tried again.
  virtual void upstream_retry(std::string_view /*provider*/) {}
  // A model call a provider answered, as the usage ledger records it (a step of a reply, or
  // its `title` request): what it reported and cost (none: the model has no price).
  virtual void model_call(std::string_view /*model*/, bool /*title*/, const Usage& /*usage*/,
                          std::optional<long long> /*cost_micros*/) {}
};

}  // namespace chatd::llm
