// The FastCGI records of a response after its headers, for the reply loop, which writes them
// itself: libfcgi has no non-blocking output, and its FCGX_Detach is unimplemented. A few
// dozen lines against the FastCGI 1.0 specification (section 3.3 records, 5.3 FCGI_STDOUT,
// 5.5 FCGI_END_REQUEST): bytes appended to a buffer, which the loop writes as the socket takes
// them (a partial write is fine at any byte).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chatd::fcgi {

inline constexpr uint8_t kVersion = 1;
inline constexpr uint8_t kEndRequest = 3;  // FCGI_END_REQUEST
inline constexpr uint8_t kStdout = 6;      // FCGI_STDOUT
inline constexpr size_t kHeaderSize = 8;
// The most content one record carries: its length is 16 bits. Records are cut below it, at a
// multiple of 8, so that every record but the last of a piece needs no padding.
inline constexpr size_t kMaxContent = 65528;

// Appends `data` as FCGI_STDOUT records of request `request_id` (none for empty `data`: an
// empty FCGI_STDOUT record would end the stream). Each record is padded to a multiple of 8
// bytes, as the specification recommends and libfcgi does.
void append_stdout(std::string& out, uint16_t request_id, std::string_view data);

// Appends the end of a response: the empty FCGI_STDOUT record that closes the stream, then
// FCGI_END_REQUEST with `app_status` and protocol status FCGI_REQUEST_COMPLETE.
void append_end(std::string& out, uint16_t request_id, uint32_t app_status = 0);

}  // namespace chatd::fcgi
