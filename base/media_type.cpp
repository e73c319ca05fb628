#include "base/media_type.hpp"

namespace chatd::base {

namespace {

bool at(std::string_view bytes, size_t offset, std::string_view signature) {
  return bytes.size() >= offset + signature.size() &&
         bytes.substr(offset, signature.size()) == signature;
}

}  // namespace

std::optional<std::string_view> sniff_media_type(std::string_view bytes) {
  using namespace std::literals;
  // The signature, then the IHDR chunk that must come first (length 13).
  if (at(bytes, 0, "\x89PNG\r\n\x1a\n"sv) && at(bytes, 8, "\0\0\0\x0dIHDR"sv)) return "image/png";
  // Start of image, then the marker of the first segment.
  if (at(bytes, 0, "\xff\xd8\xff"sv) && bytes.size() >= 4) return "image/jpeg";
  // The header, then the logical screen descriptor (7 bytes).
  if ((at(bytes, 0, "GIF87a") || at(bytes, 0, "GIF89a")) && bytes.size() >= 13) return "image/gif";
  // A RIFF container of WEBP, its first chunk lossy, lossless or extended.
  if (at(bytes, 0, "RIFF") && at(bytes, 8, "WEBP") &&
      (at(bytes, 12, "VP8 ") || at(bytes, 12, "VP8L") || at(bytes, 12, "VP8X")))
    return "image/webp";
  // The header with its version, "%PDF-1.7" or "%PDF-2.0", at the very start (readers that look
  // further for it are how polyglots get made).
  if (at(bytes, 0, "%PDF-") && bytes.size() >= 8 && bytes[5] >= '1' && bytes[5] <= '2' &&
      bytes[6] == '.')
    return "application/pdf";
  return std::nullopt;
}

}  // namespace chatd::base
