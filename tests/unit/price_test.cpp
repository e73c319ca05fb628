// Prices and costs in integer micro-dollars (API.md §9): no floating point money.
#include "llm/price.hpp"

#include <gtest/gtest.h>

#include "worker/config.hpp"
#include "worker/price_config.hpp"

namespace chatd::llm {
namespace {

TEST(Price, DollarsAreReadExactly) {
  EXPECT_EQ(parse_dollars("2.50"), 2'500'000);
  EXPECT_EQ(parse_dollars("10"), 10'000'000);
  EXPECT_EQ(parse_dollars("0.000001"), 1);
  EXPECT_EQ(parse_dollars("0.1"), 100'000);
  EXPECT_EQ(parse_dollars("0"), 0);
  EXPECT_EQ(parse_dollars("1000000"), 1'000'000'000'000);
  for (const char* bad : {"", ".5", "1.", "-1", "+1", "1e3", "1.0000001", "1,5", " 1", "1 ",
                          "1000000.01", "99999999999999999999"})
    EXPECT_EQ(parse_dollars(bad), std::nullopt) << bad;
}

TEST(Price, ACallCostsEachKindAtItsPriceRoundedOnce) {
  Price price{2'500'000, 10'000'000, 1'250'000, 3'750'000};  // $ 2.50 / 10 / 1.25 / 3.75
  Usage openai;  // prompt 2006 of which 1920 cached, 300 out
  openai.prompt_tokens = 2006;
  openai.cache_read_tokens = 1920;
  openai.completion_tokens = 300;
  // 86 × 2.5 + 1920 × 1.25 + 300 × 10 = 215 + 2400 + 3000 micro-dollars
  EXPECT_EQ(cost_micros(openai, price), 5615);
  Usage anthropic;  // input 21 uncached, 2048 read, 188 written, 393 out
  anthropic.prompt_includes_cache = false;
  anthropic.prompt_tokens = 21;
  anthropic.cache_read_tokens = 2048;
  anthropic.cache_write_tokens = 188;
  anthropic.completion_tokens = 393;
  // 52.5 + 2560 + 705 + 3930 = 7247.5 → 7248 (half up, once for the call)
  EXPECT_EQ(cost_micros(anthropic, price), 7248);
  // A token at $0.40 per million is 0.4 micro-dollars: it rounds to nothing, two to 1.
  Price cheap{400'000, 400'000, 400'000, 400'000};
  Usage one;
  one.completion_tokens = 1;
  EXPECT_EQ(cost_micros(one, cheap), 0);
  one.completion_tokens = 2;
  EXPECT_EQ(cost_micros(one, cheap), 1);
  // Nothing reported, nothing charged; absurd counts do not overflow.
  EXPECT_EQ(cost_micros(Usage{}, price), 0);
  Usage huge;
  huge.prompt_tokens = huge.completion_tokens = 1LL << 62;
  EXPECT_GT(cost_micros(huge, price), 0);
}

TEST(Price, DollarsAreWrittenExactly) {
  EXPECT_EQ(format_dollars(10'000'000), "$10.00");
  EXPECT_EQ(format_dollars(1'234'567), "$1.234567");
  EXPECT_EQ(format_dollars(10'500), "$0.0105");
  EXPECT_EQ(format_dollars(120), "$0.00012");
  EXPECT_EQ(format_dollars(0), "$0.00");
  EXPECT_EQ(format_dollars(-2'500'000), "-$2.50");
}

TEST(PriceConfig, ABudgetIsAPeriodAndALimit) {
  auto budget = config::parse_budget("period=week;limit-usd=12.5");
  EXPECT_EQ(budget.period, "week");
  EXPECT_EQ(budget.limit_micros, 12'500'000);
  auto refused = [](const std::string& spec) -> std::string {
    try {
      config::parse_budget(spec);
    } catch (const config::ConfigError& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(refused("period=year;limit-usd=1"),
            "budget: period must be day, week or month, got \"year\"");
  EXPECT_NE(refused("period=day;limit-usd=-1").find("limit-usd must be US dollars"),
            std::string::npos);
  EXPECT_EQ(refused("period=day"),
            "budget: needs period= and limit-usd=, as in period=month;limit-usd=10");
  EXPECT_EQ(refused("period=day;limit=1"), "budget: unknown key \"limit\"");
}

TEST(PriceConfig, EntriesAreCheckedByName) {
  auto [model, price] =
      config::parse_model_price("model=gpt-4o;input=2.50;output=10;cache-read=1.25");
  EXPECT_EQ(model, "gpt-4o");
  EXPECT_EQ(price.input, 2'500'000);
  EXPECT_EQ(price.output, 10'000'000);
  EXPECT_EQ(price.cache_read, 1'250'000);
  EXPECT_EQ(price.cache_write, 2'500'000) << "defaults to the input price";
  auto refused = [](const std::string& spec) -> std::string {
    try {
      config::parse_model_price(spec);
    } catch (const config::ConfigError& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(refused("input=1;output=2"), "model-price: model= is missing");
  EXPECT_EQ(refused("model=m;input=1"), "model-price: m needs input= and output=");
  EXPECT_NE(refused("model=m;input=1;output=2.5.0").find("output must be US dollars"),
            std::string::npos);
  EXPECT_EQ(refused("model=m;input=1;output=2;cachee-read=1"),
            "model-price: unknown key \"cachee-read\"");
  try {
    config::prices({"model=m;input=1;output=2", "model=m;input=3;output=4"});
    ADD_FAILURE() << "a model priced twice was accepted";
  } catch (const config::ConfigError& e) {
    EXPECT_STREQ(e.what(), "model-price: m is priced twice");
  }
}

}  // namespace
}  // namespace chatd::llm
