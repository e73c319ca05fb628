// Why a model call or a reply ended, and its one spelling on the wire: the data stream's
// finishReason (STREAM-PROTOCOL.md §1), the stored finish_reason and the metrics label.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace chatd::llm {

// In the order of the metrics counters (worker/counters.hpp), which follow kAllFinishReasons.
enum class FinishReason { kStop, kLength, kToolCalls, kContentFilter, kError, kOther, kUnknown };

inline constexpr std::array<FinishReason, 7> kAllFinishReasons = {
    FinishReason::kStop,          FinishReason::kLength, FinishReason::kToolCalls,
    FinishReason::kContentFilter, FinishReason::kError,  FinishReason::kOther,
    FinishReason::kUnknown};

// "stop", "length", "tool-calls", "content-filter", "error", "other", "unknown".
std::string_view wire_name(FinishReason reason);

// The reason a wire name stands for; nullopt for any other text.
std::optional<FinishReason> parse_finish_reason(std::string_view wire);

}  // namespace chatd::llm
