// The price table and budgets (API.md §9): `model-price` entries, US dollars per million tokens,
// e.g. "model=gpt-4o;input=2.50;output=10;cache-read=1.25;cache-write=3.75" (repeatable), and
// `budget`, e.g. "period=month;limit-usd=10".
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "llm/price.hpp"
#include "sql/budget.hpp"

namespace chatd::config {

// One entry: the model and its price (cache-read and cache-write default to the input price).
// Throws ConfigError naming the problem.
std::pair<std::string, llm::Price> parse_model_price(const std::string& spec);

// All entries; a model priced twice is refused.
llm::PriceTable prices(const std::vector<std::string>& specs);

// A budget: period=day|week|month;limit-usd=N (dollars, up to 6 decimals). Throws ConfigError
// naming `option` and the problem.
sql::Budget parse_budget(const std::string& spec, const std::string& option = "budget");

}  // namespace chatd::config
