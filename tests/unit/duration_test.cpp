// Durations, sizes and plain numbers in configuration values.
#include "worker/duration.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>

namespace chatd {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr int64_t kMaxMs = std::numeric_limits<int64_t>::max();

TEST(ParseDuration, Units) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("30s"), milliseconds(30'000));
  EXPECT_EQ(parse_duration("5m"), milliseconds(300'000));
  EXPECT_EQ(parse_duration("720h"), milliseconds(720LL * 3'600'000));
  EXPECT_EQ(parse_duration("2d"), milliseconds(2LL * 86'400'000));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
  EXPECT_EQ(parse_duration("007s"), milliseconds(7'000));
}

TEST(ParseDuration, Combinations) {
  EXPECT_EQ(parse_duration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(parse_duration("1m30s500ms"), milliseconds(90'500));
  EXPECT_EQ(parse_duration("1d1h1m1s1ms"), milliseconds(86'400'000 + 3'600'000 + 60'000 + 1'001));
  EXPECT_EQ(parse_duration("30m1h"), milliseconds(5'400'000));  // any order, as Go's
}

TEST(ParseDuration, BareNumberIsSeconds) {
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
  EXPECT_EQ(parse_duration("45"), milliseconds(45'000));
  EXPECT_EQ(parse_duration("9223372036854775"), milliseconds(9'223'372'036'854'775'000));
}

TEST(ParseDuration, OverflowIsRejected) {
  EXPECT_EQ(parse_duration("9223372036854775807ms"), milliseconds(kMaxMs));
  EXPECT_EQ(parse_duration("9223372036854775808ms"), std::nullopt);
  EXPECT_EQ(parse_duration("9223372036854776"), std::nullopt);  // bare seconds
  EXPECT_EQ(parse_duration("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_duration("18446744073709551616s"), std::nullopt);
  EXPECT_EQ(parse_duration("106751991167301d"), std::nullopt);
  EXPECT_EQ(parse_duration("2562047788015216h"), std::nullopt);
  EXPECT_EQ(parse_duration("9223372036854775807ms1ms"), std::nullopt);  // the sum
  EXPECT_EQ(parse_duration("9223372036854775s1s"), std::nullopt);
}

TEST(ParseDuration, GarbageIsRejected) {
  for (const char* text :
       {"",   "s",    "ms",   "abc", "1x",  "1.5h",  "-1s",  "+1s", "1 s", " 1s", "1s ", "1S",
        "1H", "1sec", "1h30", "h1",  "1s-", "0x10s", "1e3s", "1us", "1ns", "1w",  "\xff"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(FormatDuration, LargestWholeUnit) {
  EXPECT_EQ(format_duration(0ms), "0s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(30s), "30s");
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(60s), "1m");
  EXPECT_EQ(format_duration(90min), "90m");
  EXPECT_EQ(format_duration(1h), "1h");
  EXPECT_EQ(format_duration(720h), "720h");
  EXPECT_EQ(format_duration(24h), "24h");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (milliseconds value : std::initializer_list<milliseconds>{
           0ms, 1ms, 999ms, 1001ms, 1000ms, 59s, 61s, 60min, 61min, 25h, milliseconds(kMaxMs)}) {
    auto text = format_duration(value);
    EXPECT_EQ(parse_duration(text), value) << text;
  }
}

TEST(ParseSize, UnitsAndBareBytes) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("4194304"), 4194304u);
  EXPECT_EQ(parse_size("10B"), 10u);
  EXPECT_EQ(parse_size("512KiB"), 512u * 1024);
  EXPECT_EQ(parse_size("1k"), 1024u);
  EXPECT_EQ(parse_size("1K"), 1024u);
  EXPECT_EQ(parse_size("4MiB"), 4u << 20);
  EXPECT_EQ(parse_size("2m"), 2u << 20);
  EXPECT_EQ(parse_size("2M"), 2u << 20);
  EXPECT_EQ(parse_size("1GiB"), 1u << 30);
  EXPECT_EQ(parse_size("3g"), 3ull << 30);
  EXPECT_EQ(parse_size("3G"), 3ull << 30);
}

TEST(ParseSize, OverflowIsRejected) {
  EXPECT_EQ(parse_size("8589934591GiB"), (8589934591ull << 30));
  EXPECT_EQ(parse_size("8589934592GiB"), std::nullopt);  // 2^63
  EXPECT_EQ(parse_size("9223372036854775807"), 9223372036854775807ull);
  EXPECT_EQ(parse_size("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_size("18446744073709551616B"), std::nullopt);
}

TEST(ParseSize, GarbageIsRejected) {
  for (const char* text : {"", "MiB", "B", "4 MiB", " 4MiB", "4MiB ", "4mib", "4TiB", "4KB", "4MB",
                           "-1", "+1", "1.5MiB", "4MiB5", "4MiBMiB", "4s", "0x10"}) {
    EXPECT_EQ(parse_size(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(ParseUnsigned, Decimal) {
  EXPECT_EQ(parse_unsigned("0"), 0u);
  EXPECT_EQ(parse_unsigned("42"), 42u);
  EXPECT_EQ(parse_unsigned("007"), 7u);
  EXPECT_EQ(parse_unsigned("18446744073709551615"), std::numeric_limits<uint64_t>::max());
}

TEST(ParseUnsigned, RejectsEverythingElse) {
  for (const char* text : {"", "18446744073709551616", "99999999999999999999999", "-1", "+1", "-0",
                           " 1", "1 ", "0x10", "1e3", "12a", "1.0", "1,000", "a"}) {
    EXPECT_EQ(parse_unsigned(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(ParseRate, PerSecondMinuteHour) {
  EXPECT_EQ(parse_rate("10/s"), 10.0);
  EXPECT_EQ(parse_rate("600/m"), 10.0);
  EXPECT_EQ(parse_rate("36/h"), 0.01);
  EXPECT_EQ(parse_rate("0"), 0.0);
  EXPECT_EQ(parse_rate("0/s"), 0.0);
}

TEST(ParseRate, RefusesOtherShapes) {
  for (const char* bad : {"", "10", "/s", "10/", "10/d", "10/sec", "-1/s", "1.5/s", " 10/s",
                          "10/s ", "10//s", "99999999999999999999/s"})
    EXPECT_EQ(parse_rate(bad), std::nullopt) << bad;
}

}  // namespace
}  // namespace chatd
