#include "llm/finish_reason.hpp"

namespace chatd::llm {

std::string_view wire_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kToolCalls:
      return "tool-calls";
    case FinishReason::kContentFilter:
      return "content-filter";
    case FinishReason::kError:
      return "error";
    case FinishReason::kOther:
      return "other";
    case FinishReason::kUnknown:
      break;
  }
  return "unknown";
}

std::optional<FinishReason> parse_finish_reason(std::string_view wire) {
  for (FinishReason reason : kAllFinishReasons)
    if (wire_name(reason) == wire) return reason;
  return std::nullopt;
}

}  // namespace chatd::llm
