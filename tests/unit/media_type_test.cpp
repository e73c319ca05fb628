// A file's type judged from its bytes (API.md §10): the five types by their whole signatures;
// a prefix of one, a signature further in, or nothing at all is no type.
#include "base/media_type.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace chatd::base {
namespace {

using namespace std::literals;

// The first bytes of real files of each type, as the tests upload them.
const std::string kPng = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0"s;
const std::string kJpeg = "\xff\xd8\xff\xe0\0\x10JFIF\0"s;
const std::string kGif = "GIF89a\x01\0\x01\0\x80\0\0"s;
const std::string kWebp = "RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0"s;
const std::string kPdf = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"s;

TEST(MediaType, EachTypeByItsSignature) {
  EXPECT_EQ(sniff_media_type(kPng), "image/png");
  EXPECT_EQ(sniff_media_type(kJpeg), "image/jpeg");
  EXPECT_EQ(sniff_media_type(kGif), "image/gif");
  EXPECT_EQ(sniff_media_type("GIF87a\x01\0\x01\0\x80\0\0"s), "image/gif");
  EXPECT_EQ(sniff_media_type(kWebp), "image/webp");
  EXPECT_EQ(sniff_media_type("RIFF\x24\0\0\0WEBPVP8L"s), "image/webp");
  EXPECT_EQ(sniff_media_type(kPdf), "application/pdf");
  EXPECT_EQ(sniff_media_type("%PDF-2.0\n"), "application/pdf");
}

TEST(MediaType, TruncatedHeadersAreNoType) {
  // Each file, and the bytes its signature takes: any fewer are no type.
  const std::pair<const std::string*, size_t> signatures[] = {
      {&kPng, 16}, {&kJpeg, 4}, {&kGif, 13}, {&kWebp, 16}, {&kPdf, 8}};
  for (const auto& [file, length] : signatures) {
    for (size_t n = 0; n < length; ++n)
      EXPECT_EQ(sniff_media_type(file->substr(0, n)), std::nullopt) << n << " bytes of " << *file;
    EXPECT_NE(sniff_media_type(file->substr(0, length)), std::nullopt) << *file;
  }
  EXPECT_EQ(sniff_media_type("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDX"s), std::nullopt) << "no IHDR";
  EXPECT_EQ(sniff_media_type("RIFF\x24\0\0\0WAVEfmt "s), std::nullopt) << "RIFF, not WebP";
}

TEST(MediaType, NothingElseIsAType) {
  EXPECT_EQ(sniff_media_type(""), std::nullopt);
  EXPECT_EQ(sniff_media_type(std::string(64, '\0')), std::nullopt);
  EXPECT_EQ(sniff_media_type("<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), std::nullopt);
  EXPECT_EQ(sniff_media_type("<html><script>alert(1)</script>"), std::nullopt);
  EXPECT_EQ(sniff_media_type("PK\x03\x04"), std::nullopt);
  // A PDF whose header is not at the start (readers look for it in the first kilobyte: how
  // PDF polyglots are made) is not taken for one.
  EXPECT_EQ(sniff_media_type("<html>" + kPdf), std::nullopt);
  EXPECT_EQ(sniff_media_type(" " + kPng), std::nullopt);
}

// A GIF that is also a script (GIF89a/*…*/=…) is a GIF, and is served as one with nosniff.
TEST(MediaType, APolyglotIsWhatItStartsAs) {
  EXPECT_EQ(sniff_media_type("GIF89a/*\x01\0\x80\0\0*/=alert(document.domain);"s), "image/gif");
  EXPECT_EQ(sniff_media_type(kPng + "%PDF-1.7\n"), "image/png");
}

}  // namespace
}  // namespace chatd::base
