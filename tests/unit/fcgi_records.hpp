// FastCGI records read back by a decoder written from the FastCGI 1.0 specification (3.3: an
// 8-byte header, content, padding), for the tests of what chatd writes to nginx.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "worker/fcgi_framer.hpp"

namespace chatd::fcgi::testing {

struct Record {
  uint8_t type;
  uint16_t request_id;
  std::string content;
  size_t padding;
};

// Every record of `bytes`; fails the test on anything the specification does not allow.
inline std::vector<Record> decode(std::string_view bytes) {
  std::vector<Record> records;
  while (!bytes.empty()) {
    EXPECT_GE(bytes.size(), kHeaderSize);
    if (bytes.size() < kHeaderSize) break;
    auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
    EXPECT_EQ(byte(0), 1) << "version";
    EXPECT_EQ(byte(7), 0) << "reserved";
    Record record{byte(1), static_cast<uint16_t>(byte(2) << 8 | byte(3)), {}, byte(6)};
    size_t length = static_cast<size_t>(byte(4) << 8 | byte(5));
    EXPECT_GE(bytes.size(), kHeaderSize + length + record.padding);
    if (bytes.size() < kHeaderSize + length + record.padding) break;
    record.content = std::string(bytes.substr(kHeaderSize, length));
    for (size_t i = 0; i < record.padding; ++i) EXPECT_EQ(byte(kHeaderSize + length + i), 0);
    bytes.remove_prefix(kHeaderSize + length + record.padding);
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace chatd::fcgi::testing
