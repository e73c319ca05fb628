// FastCGI request and response, as http::Request and http::ResponseWriter.
#pragma once

#include <fcgiapp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

#include "handlers/http.hpp"
#include "worker/live_connection.hpp"

namespace chatd {

enum class BodyStatus { kOk, kTooLarge };

// How a request (by method and path) takes its body: at most `max` bytes, read whole into
// Request::body before the handler runs, or `streamed` to it (Request::read_body) as it comes.
struct BodyRule {
  uint64_t max = 0;
  bool streamed = false;
};
using BodyRules = std::function<BodyRule(std::string_view method, std::string_view path)>;

// Copies the params (libfcgi frees them at the next accept) and reads the body, refusing one
// over its limit: it is then read and dropped, so nginx never sees a half-read request. A
// streamed body is left to the handler (its length, when given, checked first), and to
// drain_body after it.
BodyStatus read_request(FCGX_Request& raw, const BodyRules& rules, http::Request& out);
// Reads and drops what the handler left of a streamed body.
void drain_body(FCGX_Request& raw);

// Once a client stops reading, nginx stops reading from chatd (its buffer for that client is
// full) and a write to nginx would wait for as long as the client does, or for ever longer when
// the client's TCP window opens a crack now and then. A write must be done within this time
// plus one second for every kSlowestReader bytes; past that the client counts as gone, and a
// reply goes on by its on-disconnect rule.
inline constexpr std::chrono::milliseconds kStalledWriteTimeout{2000};
inline constexpr size_t kSlowestReader = 16 * 1024;  // bytes per second
// How long a client may take to take `unsent` bytes.
inline std::chrono::milliseconds write_deadline(size_t unsent) {
  return kStalledWriteTimeout + std::chrono::milliseconds(unsent * 1000 / kSlowestReader);
}

// The response, written by chatd itself: FastCGI records (worker/fcgi_framer.hpp) sent on the
// request's connection with a deadline, not through libfcgi's stream, whose writes block for as
// long as nginx does not read. finish() ends it and gives the connection back to libfcgi,
// closed; or go_live() hands it to the reply loop.
class FcgiResponseWriter : public http::ResponseWriter {
 public:
  // `live` counts the worker's live connections (go_live).
  FcgiResponseWriter(FCGX_Request& raw, base::InFlight& live) : raw_(raw), live_(live) {}
  bool write(std::string_view data) override;
  bool flush() override;
  // The connection goes to a LiveConnection, what is unsent with it; libfcgi keeps nothing of
  // it (its next accept takes a new connection).
  std::unique_ptr<http::LiveResponse> go_live() override;
  // After go_live(): where the request's log line waits for the response's end.
  const std::shared_ptr<RequestEnd>& request_end() const { return request_end_; }
  // The end records (unless the connection is gone), then the connection closed. Once.
  void finish();
  uint64_t bytes_written() const { return bytes_; }

 protected:
  bool write_head(int status, const http::Headers& headers) override;

 private:
  bool send_pending();

  FCGX_Request& raw_;
  base::InFlight& live_;
  std::shared_ptr<RequestEnd> request_end_;
  std::string pending_;  // records not yet sent
  bool gone_ = false;    // nginx closed the connection, or did not take a write in time
  bool finished_ = false;
  uint64_t bytes_ = 0;  // of the response, records not counted
};

}  // namespace chatd
