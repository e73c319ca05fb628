// The usage ledger (API.md §9): what each model call used and cost.
#pragma once

#include <optional>
#include <string>

#include "sql/statement.hpp"

namespace chatd::sql {

struct ModelCallRecord {
  std::string user_id;
  std::string chat_id;
  std::string message_id;
  std::string kind;  // "step" or "title"
  std::string model;
  std::string provider;
  // Not reported: none. See migration 0014 for what each counts.
  std::optional<long long> input_tokens;
  std::optional<long long> output_tokens;
  std::optional<long long> cache_read_tokens;
  std::optional<long long> cache_write_tokens;
  std::optional<long long> reasoning_tokens;
  std::optional<long long> cost_micros;  // none: the model has no price
};

class UsageStore : Executor {
 public:
  using Executor::Executor;

  // One statement per call.
  void record(const ModelCallRecord& call);
};

}  // namespace chatd::sql
