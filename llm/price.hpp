// What a model call costs (API.md §9): prices from the configuration (`model-price`, US dollars
// per million tokens) in integer micro-dollars, never floating point; a model without a price
// has no cost.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "llm/model.hpp"

namespace chatd::llm {

// Micro-dollars per million tokens of each kind.
struct Price {
  long long input = 0;
  long long output = 0;
  long long cache_read = 0;   // default: the input price
  long long cache_write = 0;  // default: the input price
};

// "2.50" (dollars) as micro-dollars: 2500000. Up to 6 decimals, no sign, no exponent, at most
// 1,000,000 dollars; nothing on anything else.
std::optional<long long> parse_dollars(std::string_view text);

// Micro-dollars as dollars, exactly, with 2 to 6 decimals: 10000000 -> "$10.00",
// 1234567 -> "$1.234567", 120 -> "$0.00012".
std::string format_dollars(long long micros);

// The call's cost in micro-dollars, each kind's tokens at its price, rounded to the nearest
// micro-dollar (half up) once for the call. Unreported counts cost nothing.
long long cost_micros(const Usage& usage, const Price& price);

// Prices by model id.
using PriceTable = std::map<std::string, Price, std::less<>>;

}  // namespace chatd::llm
