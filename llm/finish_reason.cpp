#include "llm/finish_reason.hpp"

namespace chatd::llm {

namespace {

// By FinishReason, in its order.
constexpr std::array<std::string_view, kAllFinishReasons.size()> kWireNames = {
    "stop", "length", "tool-calls", "content-filter", "error", "other", "unknown"};

}  // namespace

std::string_view wire_name(FinishReason reason) {
  auto index = static_cast<size_t>(reason);
  return index < kWireNames.size() ? kWireNames[index] : "unknown";
}

std::optional<FinishReason> parse_finish_reason(std::string_view wire) {
  for (FinishReason reason : kAllFinishReasons)
    if (wire_name(reason) == wire) return reason;
  return std::nullopt;
}

}  // namespace chatd::llm
