// FastCGI request and response, as http::Request and http::ResponseWriter.
#pragma once

#include <fcgiapp.h>

#include <cstdint>

#include "handlers/http.hpp"

namespace chatd {

enum class BodyStatus { kOk, kTooLarge };

// Copies the params (libfcgi frees them at the next accept) and reads the body, refusing one
// over max_body: it is then read and dropped, so nginx never sees a half-read request.
BodyStatus read_request(FCGX_Request& raw, uint64_t max_body, http::Request& out);

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
