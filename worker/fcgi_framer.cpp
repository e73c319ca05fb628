#include "worker/fcgi_framer.hpp"

#include <algorithm>

namespace chatd::fcgi {

namespace {

constexpr uint8_t kRequestComplete = 0;  // FCGI_REQUEST_COMPLETE

// A record header (FCGI_Header): version, type, request id and content length big-endian,
// padding length, a reserved byte.
void append_header(std::string& out, uint8_t type, uint16_t request_id, size_t length,
                   uint8_t padding) {
  const char header[kHeaderSize] = {static_cast<char>(kVersion),
                                    static_cast<char>(type),
                                    static_cast<char>(request_id >> 8),
                                    static_cast<char>(request_id & 0xFF),
                                    static_cast<char>((length >> 8) & 0xFF),
                                    static_cast<char>(length & 0xFF),
                                    static_cast<char>(padding),
                                    0};
  out.append(header, kHeaderSize);
}

uint8_t padding_of(size_t length) { return static_cast<uint8_t>((8 - length % 8) % 8); }

}  // namespace

void append_stdout(std::string& out, uint16_t request_id, std::string_view data) {
  out.reserve(out.size() + data.size() + (data.size() / kMaxContent + 1) * (kHeaderSize + 7));
  while (!data.empty()) {
    size_t length = std::min(data.size(), kMaxContent);
    uint8_t padding = padding_of(length);
    append_header(out, kStdout, request_id, length, padding);
    out.append(data.substr(0, length));
    out.append(padding, '\0');
    data.remove_prefix(length);
  }
}

void append_end(std::string& out, uint16_t request_id, uint32_t app_status) {
  append_header(out, kStdout, request_id, 0, 0);
  // FCGI_EndRequestBody: appStatus big-endian, protocolStatus, three reserved bytes.
  append_header(out, kEndRequest, request_id, 8, 0);
  const char body[8] = {static_cast<char>(app_status >> 24),
                        static_cast<char>((app_status >> 16) & 0xFF),
                        static_cast<char>((app_status >> 8) & 0xFF),
                        static_cast<char>(app_status & 0xFF),
                        static_cast<char>(kRequestComplete),
                        0,
                        0,
                        0};
  out.append(body, sizeof body);
}

}  // namespace chatd::fcgi
