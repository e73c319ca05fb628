// base/: the helpers every folder shares (text, UTF-8 cutting, JSON text, status phrases).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/clock.hpp"
#include "base/http_status.hpp"
#include "base/json_text.hpp"
#include "base/text.hpp"
#include "base/utf8.hpp"

namespace chatd::base {
namespace {

TEST(Rfc3339, TheFormWithItsOffsetOnly) {
  for (const char* good : {"2026-12-01T00:00:00Z", "2026-12-01t00:00:00z",
                           "2026-12-01T01:00:00.123456789+01:00", "2026-12-01T00:00:00-05:30"})
    EXPECT_TRUE(rfc3339_form(good)) << good;
  for (const char* bad : {"", "now", "tomorrow", "2026-12-01", "2026-12-01 00:00:00Z",
                          "2026-12-01T00:00:00", "2026-12-01T00:00Z", "2026-12-01T00:00:00+0100",
                          "2026-12-01T00:00:00.Z", " 2026-12-01T00:00:00Z"})
    EXPECT_FALSE(rfc3339_form(bad)) << bad;
}

TEST(Trim, WhiteSpaceOnBothEnds) {
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \t\r\n\v\f"), "");
  EXPECT_EQ(trim("  a b \n"), "a b");
  EXPECT_EQ(trim("a"), "a");
  EXPECT_EQ(trim("\xc2\xa0x"), "\xc2\xa0x");  // no-break space is not ASCII white space
}

TEST(Trim, ChosenCharacters) {
  EXPECT_EQ(trim(" \ta=b\t ", kHttpWhitespace), "a=b");
  EXPECT_EQ(trim("\na\n", kHttpWhitespace), "\na\n");
  EXPECT_EQ(trim("//path//", "/"), "path");
}

TEST(PercentEncode, KeepsOnlyUnreservedBytes) {
  EXPECT_EQ(percent_encode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(percent_encode("a b&c=d/\xc3\xa9"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(percent_decode(percent_encode("x y+%z")), "x y+%z");
}

TEST(Utf8, LengthTrimAndControls) {
  EXPECT_EQ(utf8_length(""), 0u);
  EXPECT_EQ(utf8_length("a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80"), 4u);
  EXPECT_EQ(utf8_trim_space(" \t\xc2\xa0\xe3\x80\x80x y\xe2\x80\xa8\n"), "x y");
  EXPECT_EQ(utf8_trim_space("\xe2\x80\x8bx"), "\xe2\x80\x8bx");  // U+200B is not White_Space
  EXPECT_EQ(utf8_trim_space("  "), "");
  EXPECT_FALSE(utf8_has_control("plain \xc3\xa9 text"));
  EXPECT_TRUE(utf8_has_control("a\tb"));
  EXPECT_TRUE(utf8_has_control("a\x7f"));
  EXPECT_TRUE(utf8_has_control("a\xc2\x85"));   // U+0085
  EXPECT_FALSE(utf8_has_control("a\xc2\xa0"));  // U+00A0 is not Cc
}

TEST(Blank, OnlyWhiteSpace) {
  EXPECT_TRUE(is_blank(""));
  EXPECT_TRUE(is_blank(" \n\t"));
  EXPECT_FALSE(is_blank(" x "));
}

TEST(CaseInsensitive, AsciiOnly) {
  EXPECT_EQ(ascii_lower("Content-TYPE: Ab9"), "content-type: ab9");
  EXPECT_EQ(ascii_lower("\xc3\x89"), "\xc3\x89");  // É stays as it is
  EXPECT_TRUE(equals_nocase("Bearer", "bEARER"));
  EXPECT_FALSE(equals_nocase("Bearer", "Bearer "));
  EXPECT_FALSE(equals_nocase("a", "b"));
  EXPECT_TRUE(starts_with_nocase("Retry-After: 5", "retry-after:"));
  EXPECT_TRUE(starts_with_nocase("x", ""));
  EXPECT_FALSE(starts_with_nocase("Retry", "retry-after:"));
  EXPECT_FALSE(starts_with_nocase("[", "{"));  // '[' is not 'A' + 32 territory: no folding
}

TEST(PercentDecode, Sequences) {
  EXPECT_EQ(percent_decode("", true), "");
  EXPECT_EQ(percent_decode("plain", true), "plain");
  EXPECT_EQ(percent_decode("%41%62", true), "Ab");
  EXPECT_EQ(percent_decode("%2f%2F", true), "//");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("%2B", true), "+");
  EXPECT_EQ(percent_decode("%C3%A9", true), "\xc3\xa9");
  EXPECT_EQ(percent_decode("%00", true), std::string(1, '\0'));
  EXPECT_EQ(percent_decode("%25", true), "%");
  EXPECT_EQ(percent_decode("%2541", true), "%41");  // decoded once only
}

TEST(PercentDecode, MalformedEscapesStayLiteral) {
  EXPECT_EQ(percent_decode("%", true), "%");
  EXPECT_EQ(percent_decode("%4", true), "%4");
  EXPECT_EQ(percent_decode("a%", true), "a%");
  EXPECT_EQ(percent_decode("%zz", true), "%zz");
  EXPECT_EQ(percent_decode("%4g", true), "%4g");
  EXPECT_EQ(percent_decode("%%41", true), "%A");
  EXPECT_EQ(percent_decode("100%", true), "100%");
}

TEST(Utf8Prefix, NeverSplitsACharacter) {
  EXPECT_EQ(utf8_prefix("abc", 5), "abc");
  EXPECT_EQ(utf8_prefix("abc", 3), "abc");
  EXPECT_EQ(utf8_prefix("abc", 2), "ab");
  EXPECT_EQ(utf8_prefix("", 0), "");
  const std::string e_acute = "\xc3\xa9";         // 2 bytes
  const std::string euro = "\xe2\x82\xac";        // 3 bytes
  const std::string rocket = "\xf0\x9f\x9a\x80";  // 4 bytes
  EXPECT_EQ(utf8_prefix("a" + e_acute, 2), "a");
  EXPECT_EQ(utf8_prefix("a" + e_acute, 3), "a" + e_acute);
  EXPECT_EQ(utf8_prefix("a" + e_acute + "b", 3), "a" + e_acute);  // a whole character is kept
  EXPECT_EQ(utf8_prefix(euro + euro, 5), euro);
  EXPECT_EQ(utf8_prefix(rocket, 3), "");
  EXPECT_EQ(utf8_prefix(rocket + "x", 4), rocket);
}

TEST(JsonText, CompactAndReplacesInvalidUtf8) {
  EXPECT_EQ(json_text(nlohmann::json{{"a", 1}, {"b", {true, nullptr}}}),
            R"({"a":1,"b":[true,null]})");
  EXPECT_EQ(json_text(nlohmann::json("caf\xc3\xa9")), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_text(nlohmann::json("bad \xff byte")), "\"bad \xef\xbf\xbd byte\"");
  nlohmann::ordered_json ordered;
  ordered["z"] = 1;
  ordered["a"] = "\xc3";
  EXPECT_EQ(json_text(ordered), "{\"z\":1,\"a\":\"\xef\xbf\xbd\"}");
}

TEST(JsonText, U0000FoundAndReplacedInStringsAndKeys) {
  const std::string nul("\0", 1);
  EXPECT_FALSE(has_nul(nlohmann::json{{"a", {1, "b", nullptr}}}));
  EXPECT_TRUE(has_nul(nlohmann::json("x" + nul)));
  EXPECT_TRUE(has_nul(nlohmann::json{{"a", {1, "b" + nul}}}));
  EXPECT_TRUE(has_nul(nlohmann::json{{"k" + nul, 1}}));
  nlohmann::json clean = without_nul({{"k" + nul, {"a" + nul + nul, 2, true}}, {"n", nullptr}});
  EXPECT_EQ(clean, (nlohmann::json{{"k\xEF\xBF\xBD", {"a\xEF\xBF\xBD\xEF\xBF\xBD", 2, true}},
                                   {"n", nullptr}}));
  EXPECT_FALSE(has_nul(clean));
}

TEST(HttpStatusText, PhrasesAndUnknown) {
  EXPECT_EQ(http_status_text(200), "OK");
  EXPECT_EQ(http_status_text(404), "Not Found");
  EXPECT_EQ(http_status_text(413), "Content Too Large");
  EXPECT_EQ(http_status_text(429), "Too Many Requests");
  EXPECT_EQ(http_status_text(504), "Gateway Timeout");
  EXPECT_EQ(http_status_text(529), "Overloaded");
  EXPECT_EQ(http_status_text(0), "");
  EXPECT_EQ(http_status_text(299), "");
}

}  // namespace
}  // namespace chatd::base
