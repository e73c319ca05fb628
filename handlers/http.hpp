// The HTTP request and response as the handlers see them, independent of FastCGI: worker/
// fills a Request and implements ResponseWriter.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatd::base {
class EventLoop;
}

namespace chatd::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The token of a request, once it passed the checks that need no database (handlers/auth.hpp).
struct Credentials {
  std::string api_key_id;
  std::string hashed_secret;  // hex of sha256(secret)
};

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
  // A route that streams its body (an upload) finds it here instead of in `body`: reads up to
  // `n` bytes into `to`, as they come; 0 at the end.
  using BodyReader = std::function<size_t(char* to, size_t n)>;
  BodyReader read_body;
  size_t body_read = 0;  // how much of `body` read() has handed out
  std::string remote_addr;
  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();

  // Filled by the router.
  std::map<std::string, std::string, std::less<>> path_params;
  std::optional<Credentials> credentials;
  std::optional<Identity> identity;  // set when the credentials were checked in the database

  const std::string* header(std::string_view name) const;
  // Fills `to` from the body (streamed or not) as far as it goes; how much it put there.
  size_t read(char* to, size_t n);
  const std::string& path_param(std::string_view name) const;
  // The first value of a query parameter, percent-decoded.
  std::optional<std::string> query_param(std::string_view name) const;
  // Every value of a repeatable query parameter, percent-decoded, in order.
  std::vector<std::string> query_params(std::string_view name) const;
  // A cookie's value from the Cookie header.
  std::optional<std::string> cookie(std::string_view name) const;
};

// How a response that went live ended, for its line in the request log.
struct ResponseEnd {
  std::string finish_reason;  // of the reply, as the data stream spells it; empty: none
  std::string reply_error;    // the `3:` text of a failed reply
  std::string failure;        // what went wrong inside (sql::error_text), never data
  std::optional<long long> prompt_tokens;
  std::optional<long long> completion_tokens;
};

// The rest of a response after its headers, handed by a request thread to the worker's reply
// loop, which writes it without blocking (worker/ implements it over the FastCGI connection).
// Every call but the destructor is made on the loop's thread.
class LiveResponse {
 public:
  // Without finish(): the connection is dropped, and the client sees a cut response.
  virtual ~LiveResponse() = default;
  // First, once: `on_ready` is called (on the loop) when the client took what it was behind
  // on, or went away.
  virtual void attach(base::EventLoop& loop, std::function<void()> on_ready) = 0;
  // Queues `data` and sends what the connection takes now. False once the client is gone
  // (closed, or not reading for too long).
  virtual bool write(std::string_view data) = 0;
  // The client has yet to take much of what was written: the writer should wait for on_ready.
  virtual bool behind() const = 0;
  // Ends the response once what is queued is sent (or the client is gone). Once.
  virtual void finish(const ResponseEnd& end) = 0;
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
  // After start(): the rest of the response goes to the reply loop, and this writer is done.
  // Throws std::logic_error from a writer that cannot (the unit tests' fake), or did already.
  virtual std::unique_ptr<LiveResponse> go_live() {
    throw std::logic_error("this response cannot go live");
  }
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
