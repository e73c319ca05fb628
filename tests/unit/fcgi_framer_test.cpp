// The reply loop's FastCGI records, read back by a decoder written from the FastCGI 1.0
// specification (3.3: an 8-byte header, content, padding), and against bytes spelled out by
// hand from it.
#include "worker/fcgi_framer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fcgi_records.hpp"

namespace chatd::fcgi {
namespace {

using testing::decode;
using testing::Record;

TEST(FcgiFramer, ASmallPieceIsOneRecordPaddedToEightBytes) {
  std::string out;
  append_stdout(out, 1, "hi");
  EXPECT_EQ(out, std::string("\x01\x06\x00\x01\x00\x02\x06\x00hi\0\0\0\0\0\0", 16));
  out.clear();
  append_stdout(out, 1, "8 bytes!");
  EXPECT_EQ(out, std::string("\x01\x06\x00\x01\x00\x08\x00\x00"
                             "8 bytes!",
                             16));
}

TEST(FcgiFramer, NothingToSayIsNoRecord) {
  // An empty FCGI_STDOUT record is the end of the stream: never sent for an empty piece.
  std::string out = "kept";
  append_stdout(out, 1, "");
  EXPECT_EQ(out, "kept");
}

TEST(FcgiFramer, TheRequestIdIsBigEndianAndAppendsKeepWhatWasThere) {
  std::string out = "before";
  append_stdout(out, 0x1234, "x");
  ASSERT_EQ(out.substr(0, 6), "before");
  auto records = decode(std::string_view(out).substr(6));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].request_id, 0x1234);
  EXPECT_EQ(static_cast<uint8_t>(out[6 + 2]), 0x12);
  EXPECT_EQ(static_cast<uint8_t>(out[6 + 3]), 0x34);
  EXPECT_EQ(records[0].content, "x");
}

TEST(FcgiFramer, LargePiecesAreCutBelowTheSixteenBitLength) {
  for (size_t size : {kMaxContent - 1, kMaxContent, kMaxContent + 1, size_t{65535}, size_t{65536},
                      size_t{200'000}, 3 * kMaxContent}) {
    SCOPED_TRACE(size);
    std::string data(size, '\0');
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>('a' + i % 26);
    std::string out;
    append_stdout(out, 7, data);
    EXPECT_EQ(out.size() % 8, 0u);
    auto records = decode(out);
    ASSERT_EQ(records.size(), (size + kMaxContent - 1) / kMaxContent);
    std::string joined;
    for (const auto& record : records) {
      EXPECT_EQ(record.type, kStdout);
      EXPECT_EQ(record.request_id, 7);
      EXPECT_GT(record.content.size(), 0u);
      EXPECT_LE(record.content.size(), 65535u);
      EXPECT_EQ((record.content.size() + record.padding) % 8, 0u);
      EXPECT_LT(record.padding, 8u);
      joined += record.content;
    }
    EXPECT_EQ(joined, data);
  }
}

TEST(FcgiFramer, TheEndIsAnEmptyStdoutRecordThenEndRequest) {
  std::string out;
  append_end(out, 1);
  EXPECT_EQ(out, std::string("\x01\x06\x00\x01\x00\x00\x00\x00"
                             "\x01\x03\x00\x01\x00\x08\x00\x00"
                             "\x00\x00\x00\x00\x00\x00\x00\x00",
                             24));
  out.clear();
  append_end(out, 0xBEEF, 0x01020304);
  auto records = decode(out);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].type, kStdout);
  EXPECT_EQ(records[0].content, "");
  EXPECT_EQ(records[1].type, kEndRequest);
  EXPECT_EQ(records[1].request_id, 0xBEEF);
  // appStatus big-endian, protocolStatus FCGI_REQUEST_COMPLETE (0), three reserved bytes.
  EXPECT_EQ(records[1].content, std::string("\x01\x02\x03\x04\x00\x00\x00\x00", 8));
}

TEST(FcgiFramer, AWholeResponseReadsBackInOrder) {
  std::string out;
  std::vector<std::string> parts = {"0:\"Hello\"\n", std::string(70'000, 'x'), "d:{}\n"};
  for (const auto& part : parts) append_stdout(out, 3, part);
  append_end(out, 3);
  auto records = decode(out);
  ASSERT_EQ(records.size(), 6u);  // 1 + 2 + 1 stdout, the empty one, the end
  std::string body;
  for (size_t i = 0; i + 2 < records.size(); ++i) body += records[i].content;
  EXPECT_EQ(body, parts[0] + parts[1] + parts[2]);
  EXPECT_EQ(records[4].type, kStdout);
  EXPECT_TRUE(records[4].content.empty());
  EXPECT_EQ(records[5].type, kEndRequest);
}

}  // namespace
}  // namespace chatd::fcgi
