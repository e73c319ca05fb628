// FastCGI request and response, as http::Request and http::ResponseWriter.
#pragma once

#include <fcgiapp.h>

#include <chrono>
#include <cstdint>

#include "handlers/http.hpp"

namespace chatd {

enum class BodyStatus { kOk, kTooLarge };

// Copies the params (libfcgi frees them at the next accept) and reads the body, refusing one
// over max_body: it is then read and dropped, so nginx never sees a half-read request.
BodyStatus read_request(FCGX_Request& raw, uint64_t max_body, http::Request& out);

// Once a client stops reading, nginx stops reading from chatd (its buffer for that client is
// full) and a write to nginx would wait for as long as the client does: the request thread, and
// with it a reply's heartbeat, would stop. A write that cannot go on for this long fails
// instead; the response writer then reports the client gone and a reply goes on by its
// on-disconnect rule. Well under the 5 s without a heartbeat after which a reply is taken for
// dead (chat_replies_recover.sql).
inline constexpr std::chrono::milliseconds kStalledWriteTimeout{2000};

// Makes writes to the connection of `raw` fail after `timeout` without progress.
void set_write_timeout(FCGX_Request& raw, std::chrono::milliseconds timeout);

class FcgiResponseWriter : public http::ResponseWriter {
 public:
  explicit FcgiResponseWriter(FCGX_Request& raw) : out_(raw.out) {}
  bool write(std::string_view data) override;
  bool flush() override;
  uint64_t bytes_written() const { return bytes_; }

 protected:
  bool write_head(int status, const http::Headers& headers) override;

 private:
  FCGX_Stream* out_;
  bool gone_ = false;  // the client (nginx) closed the connection
  uint64_t bytes_ = 0;
};

}  // namespace chatd
