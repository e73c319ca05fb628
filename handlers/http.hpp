// The HTTP request and response as the handlers see them, independent of FastCGI: worker/
// fills a Request and implements ResponseWriter.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatd::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Who made the request, once authenticated.
struct Identity {
  std::string user_id;
  std::string api_key_id;
  bool is_admin = false;
};

struct Request {
  std::string method;
  std::string path;   // as sent, without the query string
  std::string query;  // raw, without '?'
  // Request headers by lower-case name with '-' ("coder-session-token").
  std::map<std::string, std::string, std::less<>> headers;
  std::string body;
  std::string remote_addr;
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();

  // Filled by the router.
  std::map<std::string, std::string, std::less<>> path_params;
  std::optional<Identity> identity;

  const std::string* header(std::string_view name) const;
  const std::string& path_param(std::string_view name) const;
  // The first value of a query parameter, percent-decoded.
  std::optional<std::string> query_param(std::string_view name) const;
  // A cookie's value from the Cookie header.
  std::optional<std::string> cookie(std::string_view name) const;
};

// Writes one response. Every write reports whether the client is still there: a vanished
// client is a value (false), never an exception or a signal.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // Sends the status and headers. Call once, before any write.
  bool start(int status, const Headers& headers) {
    status_ = status;
    return write_head(status, headers);
  }
  virtual bool write(std::string_view data) = 0;
  // Pushes what was written so far to the client now.
  virtual bool flush() = 0;
  bool started() const { return status_ != 0; }
  int status() const { return status_; }

 protected:
  virtual bool write_head(int status, const Headers& headers) = 0;

 private:
  int status_ = 0;
};

// A complete response with a body.
bool respond(ResponseWriter& out, int status, std::string_view content_type, std::string_view body,
             Headers headers = {});
// A complete JSON response, serialized as Coder's API does (HTML characters escaped).
bool respond_json(ResponseWriter& out, int status, const nlohmann::ordered_json& body,
                  Headers headers = {});
// Coder's encoder escapes <, > and & in strings as \u003c, \u003e, \u0026. Outside strings
// valid JSON has none of them, so replacing them everywhere is exact.
std::string escape_html_in_json(std::string json);

}  // namespace chatd::http
