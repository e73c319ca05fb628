#include "worker/fcgi_io.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <cctype>
#include <string_view>

#include "base/http_status.hpp"
#include "worker/duration.hpp"

namespace chatd {

void set_write_timeout(FCGX_Request& raw, std::chrono::milliseconds timeout) {
  timeval limit{};
  limit.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  limit.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(raw.ipcFd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
}

namespace {

// HTTP_CODER_SESSION_TOKEN -> coder-session-token
std::string header_name(std::string_view cgi_name) {
  std::string name;
  for (char c : cgi_name) name += c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return name;
}

}  // namespace

BodyStatus read_request(FCGX_Request& raw, uint64_t max_body, http::Request& out) {
  std::string_view request_uri, document_uri, content_length;
  for (char** env = raw.envp; env && *env; ++env) {
    std::string_view param(*env);
    size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = param.substr(0, eq), value = param.substr(eq + 1);
    if (name.starts_with("HTTP_")) {
      // A repeated header counts once, as its first value (as Go's Header.Get in Coder).
      out.headers.try_emplace(header_name(name.substr(5)), value);
    } else if (name == "REQUEST_METHOD") {
      out.method = value;
    } else if (name == "REQUEST_URI") {
      request_uri = value;
    } else if (name == "DOCUMENT_URI") {
      document_uri = value;
    } else if (name == "QUERY_STRING") {
      out.query = value;
    } else if (name == "CONTENT_LENGTH") {
      content_length = value;
    } else if (name == "CONTENT_TYPE") {
      out.headers.insert_or_assign("content-type", std::string(value));
    } else if (name == "REMOTE_ADDR") {
      out.remote_addr = value;
    }
  }
  std::string_view uri = request_uri.empty() ? document_uri : request_uri;
  out.path = uri.substr(0, uri.find('?'));

  // nginx always sends a length (it buffers the body); read to EOF when there is none.
  auto length = parse_unsigned(content_length);
  uint64_t want = length ? *length : UINT64_MAX;
  bool too_large = length && *length > max_body;
  char buf[16384];
  uint64_t total = 0;
  while (total < want) {
    int chunk = static_cast<int>(std::min<uint64_t>(sizeof buf, want - total));
    int n = FCGX_GetStr(buf, chunk, raw.in);
    if (n <= 0) break;
    total += static_cast<uint64_t>(n);
    if (total > max_body) too_large = true;
    if (!too_large) out.body.append(buf, static_cast<size_t>(n));
  }
  if (too_large) out.body.clear();
  return too_large ? BodyStatus::kTooLarge : BodyStatus::kOk;
}

bool FcgiResponseWriter::write_head(int status, const http::Headers& headers) {
  std::string head = "Status: " + std::to_string(status) + " ";
  std::string_view phrase = base::http_status_text(status);
  head += phrase.empty() ? "Unknown" : phrase;
  head += "\r\n";
  for (const auto& [name, value] : headers) head += name + ": " + value + "\r\n";
  head += "\r\n";
  return write(head);
}

bool FcgiResponseWriter::write(std::string_view data) {
  if (gone_) return false;
  if (data.empty()) return true;
  if (FCGX_PutStr(data.data(), static_cast<int>(data.size()), out_) < 0) {
    gone_ = true;
    return false;
  }
  bytes_ += data.size();
  return true;
}

bool FcgiResponseWriter::flush() {
  if (gone_) return false;
  if (FCGX_FFlush(out_) < 0) gone_ = true;
  return !gone_;
}

}  // namespace chatd
