// parse_uuid: the forms Go's uuid.Parse accepts, normalized to lower-case hyphenated.
#include "base/uuid.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chatd::base {
namespace {

constexpr const char* kCanonical = "0b7e1d3c-aaaa-4bbb-8ccc-123456789abc";

TEST(ParseUuid, Canonical) {
  EXPECT_EQ(parse_uuid(kCanonical), kCanonical);
  EXPECT_EQ(parse_uuid("00000000-0000-0000-0000-000000000000"),
            "00000000-0000-0000-0000-000000000000");
}

TEST(ParseUuid, UpperCaseBecomesLowerCase) {
  EXPECT_EQ(parse_uuid("0B7E1D3C-AAAA-4BBB-8CCC-123456789ABC"), kCanonical);
  EXPECT_EQ(parse_uuid("0b7E1d3C-aAaA-4bBb-8cCc-123456789AbC"), kCanonical);
}

TEST(ParseUuid, Braces) {
  EXPECT_EQ(parse_uuid("{0b7e1d3c-aaaa-4bbb-8ccc-123456789abc}"), kCanonical);
  EXPECT_EQ(parse_uuid("{0B7E1D3C-AAAA-4BBB-8CCC-123456789ABC}"), kCanonical);
}

TEST(ParseUuid, Urn) {
  EXPECT_EQ(parse_uuid("urn:uuid:0b7e1d3c-aaaa-4bbb-8ccc-123456789abc"), kCanonical);
  EXPECT_EQ(parse_uuid("URN:UUID:0B7E1D3C-AAAA-4BBB-8CCC-123456789ABC"), kCanonical);
}

TEST(ParseUuid, ThirtyTwoHexDigits) {
  EXPECT_EQ(parse_uuid("0b7e1d3caaaa4bbb8ccc123456789abc"), kCanonical);
  EXPECT_EQ(parse_uuid("0B7E1D3CAAAA4BBB8CCC123456789ABC"), kCanonical);
}

TEST(ParseUuid, RejectsWrongLengths) {
  for (const char* text :
       {"", "0", "0b7e1d3c-aaaa-4bbb-8ccc-123456789ab", "0b7e1d3c-aaaa-4bbb-8ccc-123456789abcd",
        "0b7e1d3caaaa4bbb8ccc123456789ab", "0b7e1d3caaaa4bbb8ccc123456789abcd",
        "{0b7e1d3caaaa4bbb8ccc123456789abc}", "urn:uuid:0b7e1d3caaaa4bbb8ccc123456789abc",
        "urn:uuid:{0b7e1d3c-aaaa-4bbb-8ccc-123456789abc}", " 0b7e1d3c-aaaa-4bbb-8ccc-123456789abc",
        "0b7e1d3c-aaaa-4bbb-8ccc-123456789abc "}) {
    EXPECT_EQ(parse_uuid(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(ParseUuid, RejectsBadCharacters) {
  for (const char* text :
       {"0b7e1d3c-aaaa-4bbb-8ccc-123456789abg", "zb7e1d3c-aaaa-4bbb-8ccc-123456789abc",
        "0b7e1d3c-aaaa-4bbb-8ccc-12345678 abc", "0b7e1d3c-aaaa-4bbb-8ccc-+23456789abc",
        "0b7e1d3caaaa4bbb8ccc123456789ab-", "0b7e1d3caaaa4bbb8ccc123456789abx",
        "0x7e1d3caaaa4bbb8ccc123456789abc"}) {
    EXPECT_EQ(parse_uuid(text), std::nullopt) << text;
  }
  EXPECT_EQ(parse_uuid(std::string("0b7e1d3c-aaaa-4bbb-8ccc-123456789ab\0", 36)), std::nullopt);
}

TEST(ParseUuid, RejectsMisplacedDashes) {
  for (const char* text :
       {"0b7e1d3ca-aaa-4bbb-8ccc-123456789abc", "0b7e1d3-caaaa-4bbb-8ccc-123456789abc",
        "0b7e1d3c-aaaa4-bbb-8ccc-123456789abc", "0b7e1d3c-aaaa-4bbb8-ccc-123456789abc",
        "0b7e1d3c-aaaa-4bbb-8ccc1-23456789abc", "0b7e1d3c_aaaa_4bbb_8ccc_123456789abc",
        "0b7e1d3c-aaaa-4bbb-8ccc-1234-6789abc", "------------------------------------"}) {
    EXPECT_EQ(parse_uuid(text), std::nullopt) << text;
  }
}

TEST(ParseUuid, RejectsWrongWrappers) {
  for (const char* text :
       {"(0b7e1d3c-aaaa-4bbb-8ccc-123456789abc)", "{0b7e1d3c-aaaa-4bbb-8ccc-123456789abc]",
        "[0b7e1d3c-aaaa-4bbb-8ccc-123456789abc}", "x0b7e1d3c-aaaa-4bbb-8ccc-123456789abcx",
        "urn:uid:x0b7e1d3c-aaaa-4bbb-8ccc-123456789abc",
        "uuid:urn:0b7e1d3c-aaaa-4bbb-8ccc-123456789abc",
        "urn:uuid-0b7e1d3c-aaaa-4bbb-8ccc-123456789abc"}) {
    EXPECT_EQ(parse_uuid(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace chatd::base
