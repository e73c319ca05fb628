#include "worker/fcgi_io.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <string_view>

#include "base/http_status.hpp"
#include "worker/duration.hpp"
#include "worker/fcgi_framer.hpp"

namespace chatd {

namespace {

// Above this much unsent, write() sends at once: a large response is never held whole.
constexpr size_t kSendAbove = 64 * 1024;

// HTTP_CODER_SESSION_TOKEN -> coder-session-token
std::string header_name(std::string_view cgi_name) {
  std::string name;
  for (char c : cgi_name) name += c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return name;
}

}  // namespace

BodyStatus read_request(FCGX_Request& raw, const BodyRules& rules, http::Request& out) {
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
  const BodyRule rule = rules(out.method, out.path);
  const uint64_t max_body = rule.max;
  auto length = parse_unsigned(content_length);
  uint64_t want = length ? *length : UINT64_MAX;
  bool too_large = length && *length > max_body;
  if (rule.streamed && !too_large) {
    out.read_body = [in = raw.in, left = want](char* to, size_t n) mutable -> size_t {
      int chunk = static_cast<int>(std::min<uint64_t>({n, left, size_t{1} << 30}));
      int got = chunk > 0 ? FCGX_GetStr(to, chunk, in) : 0;
      if (got <= 0) return 0;
      left -= static_cast<uint64_t>(got);
      return static_cast<size_t>(got);
    };
    return BodyStatus::kOk;
  }
  if (length && !too_large) out.body.reserve(*length);  // one buffer, never grown
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

void drain_body(FCGX_Request& raw) {
  char buf[16384];
  while (FCGX_GetStr(buf, sizeof buf, raw.in) > 0) {
  }
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
  if (gone_ || finished_) return false;
  fcgi::append_stdout(pending_, static_cast<uint16_t>(raw_.requestId), data);
  bytes_ += data.size();
  return pending_.size() < kSendAbove || send_pending();
}

bool FcgiResponseWriter::flush() { return !gone_ && !finished_ && send_pending(); }

void FcgiResponseWriter::finish() {
  if (finished_) return;
  if (!gone_) {
    fcgi::append_end(pending_, static_cast<uint16_t>(raw_.requestId));
    send_pending();
  }
  finished_ = true;
  // libfcgi frees the request's streams and closes the connection, writing nothing.
  FCGX_Free(&raw_, /*close=*/1);
}

std::unique_ptr<http::LiveResponse> FcgiResponseWriter::go_live() {
  if (finished_) throw std::logic_error("the response has ended");
  finished_ = true;
  request_end_ = std::make_shared<RequestEnd>();
  auto live = std::make_unique<LiveConnection>(raw_.ipcFd, static_cast<uint16_t>(raw_.requestId),
                                               std::move(pending_), gone_, request_end_, live_);
  // libfcgi frees the request's streams and forgets the connection, writing nothing.
  FCGX_Free(&raw_, /*close=*/0);
  raw_.ipcFd = -1;
  return live;
}

bool FcgiResponseWriter::send_pending() {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + write_deadline(pending_.size());
  size_t sent = 0;
  while (sent < pending_.size()) {
    ssize_t n = ::send(raw_.ipcFd, pending_.data() + sent, pending_.size() - sent,
                       MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && left.count() > 0) {
      pollfd ready{raw_.ipcFd, POLLOUT, 0};
      ::poll(&ready, 1, static_cast<int>(left.count()));
      continue;
    }
    gone_ = true;  // closed, failed, or too slow: what was half sent is of no use
    break;
  }
  pending_.clear();
  return !gone_;
}

}  // namespace chatd
