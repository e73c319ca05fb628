#include "worker/price_config.hpp"

#include <optional>

#include "worker/config.hpp"

namespace chatd::config {

std::pair<std::string, llm::Price> parse_model_price(const std::string& spec) {
  std::string model;
  std::optional<long long> input, output, cache_read, cache_write;
  for (const auto& [key, value] : key_value_items(spec, "model-price")) {
    if (key == "model") {
      model = value;
      continue;
    }
    std::optional<long long>* field = key == "input"         ? &input
                                      : key == "output"      ? &output
                                      : key == "cache-read"  ? &cache_read
                                      : key == "cache-write" ? &cache_write
                                                             : nullptr;
    if (!field) throw ConfigError("model-price: unknown key \"" + key + "\"");
    *field = llm::parse_dollars(value);
    if (!*field)
      throw ConfigError("model-price: " + key +
                        " must be US dollars per million tokens such as 2.50 (at most 6 "
                        "decimals), got \"" +
                        value + "\"");
  }
  if (model.empty()) throw ConfigError("model-price: model= is missing");
  if (!input || !output) throw ConfigError("model-price: " + model + " needs input= and output=");
  return {model, {*input, *output, cache_read.value_or(*input), cache_write.value_or(*input)}};
}

llm::PriceTable prices(const std::vector<std::string>& specs) {
  llm::PriceTable table;
  for (const auto& spec : specs) {
    auto [model, price] = parse_model_price(spec);
    if (!table.emplace(model, price).second)
      throw ConfigError("model-price: " + model + " is priced twice");
  }
  return table;
}

sql::Budget parse_budget(const std::string& spec, const std::string& option) {
  sql::Budget budget;
  std::optional<long long> limit;
  for (const auto& [key, value] : key_value_items(spec, option)) {
    if (key == "period") {
      if (value != "day" && value != "week" && value != "month")
        throw ConfigError(option + ": period must be day, week or month, got \"" + value + "\"");
      budget.period = value;
    } else if (key == "limit-usd") {
      limit = llm::parse_dollars(value);
      if (!limit)
        throw ConfigError(option +
                          ": limit-usd must be US dollars such as 10 or 2.50 (at most 6 "
                          "decimals), got \"" +
                          value + "\"");
    } else {
      throw ConfigError(option + ": unknown key \"" + key + "\"");
    }
  }
  if (budget.period.empty() || !limit)
    throw ConfigError(option + ": needs period= and limit-usd=, as in period=month;limit-usd=10");
  budget.limit_micros = *limit;
  return budget;
}

}  // namespace chatd::config
