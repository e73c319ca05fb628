// The one vocabulary of llm/: finish reasons and their wire names, the provider registry.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "llm/finish_reason.hpp"
#include "llm/provider_registry.hpp"

namespace chatd::llm {
namespace {

TEST(FinishReason, WireNamesAreTheDataStreamValues) {
  EXPECT_EQ(wire_name(FinishReason::kStop), "stop");
  EXPECT_EQ(wire_name(FinishReason::kLength), "length");
  EXPECT_EQ(wire_name(FinishReason::kToolCalls), "tool-calls");
  EXPECT_EQ(wire_name(FinishReason::kContentFilter), "content-filter");
  EXPECT_EQ(wire_name(FinishReason::kError), "error");
  EXPECT_EQ(wire_name(FinishReason::kOther), "other");
  EXPECT_EQ(wire_name(FinishReason::kUnknown), "unknown");
}

TEST(FinishReason, EveryReasonReadsBackFromItsWireName) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kAllFinishReasons.size(); ++i) {
    FinishReason reason = kAllFinishReasons[i];
    EXPECT_EQ(static_cast<size_t>(reason), i) << "kAllFinishReasons is in enum order";
    EXPECT_EQ(parse_finish_reason(wire_name(reason)), reason);
    names.insert(wire_name(reason));
  }
  EXPECT_EQ(names.size(), kAllFinishReasons.size());
  EXPECT_EQ(parse_finish_reason("tool_calls"), std::nullopt);
  EXPECT_EQ(parse_finish_reason(""), std::nullopt);
}

TEST(ProviderRegistry, KnowsEachTypeOnce) {
  std::set<std::string_view> types;
  for (const auto& row : kProviderTypes) {
    EXPECT_TRUE(types.insert(row.type).second) << row.type;
    EXPECT_EQ(find_provider_type(row.type), &row);
    EXPECT_FALSE(row.display_name.empty());
    auto provider = make_provider({std::string(row.type), "sk-test", "", {}});
    EXPECT_EQ(provider->type(), row.type);
  }
  EXPECT_EQ(find_provider_type("azure"), nullptr);
}

TEST(ProviderRegistry, NamesForPeople) {
  EXPECT_EQ(display_name("openai"), "OpenAI");
  EXPECT_EQ(display_name("anthropic"), "Anthropic");
  EXPECT_EQ(display_name("google"), "Google");
  EXPECT_EQ(display_name("azure"), "azure");
  EXPECT_EQ(provider_type_list(), "openai, anthropic or google");
}

}  // namespace
}  // namespace chatd::llm
