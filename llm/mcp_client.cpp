// MCP over streamable HTTP with libcurl. Every exchange is one POST (a DELETE to end a
// session) on the calling thread's own easy handle, so request threads never share a handle;
// the session is the only shared state.
#include "llm/mcp_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <set>

#include "base/http_status.hpp"
#include "base/text.hpp"
#include "base/utf8.hpp"
#include "llm/curl_request.hpp"

namespace chatd::llm {

namespace {

using json = nlohmann::json;
using McpClock = std::chrono::steady_clock;

constexpr std::size_t kMaxErrorBody = 64 * 1024;
constexpr std::size_t kMaxServerMessage = 200;  // of a JSON-RPC error message we repeat
constexpr int kMaxPages = 100;
constexpr std::chrono::milliseconds kMaxConnectTimeout{10'000};
constexpr std::chrono::milliseconds kCancelNoticeTimeout{1'000};

bool is_sse_type(std::string_view type) {
  return base::starts_with_nocase(type, "text/event-stream");
}

bool is_json_type(std::string_view type) {
  auto t = base::ascii_lower(base::trim(type.substr(0, type.find(';'))));
  return t == "application/json" || (t.size() > 5 && t.ends_with("+json"));
}

// A string for a message: cut short, one line.
std::string short_text(std::string_view s, std::size_t max = kMaxServerMessage) {
  std::string out;
  for (char c : base::utf8_prefix(s, max)) out += (c == '\n' || c == '\r') ? ' ' : c;
  if (s.size() > max) out += "…";
  return out;
}

// One handle per thread for the thread's life, apart from the providers' (transport.cpp):
// curl keeps the connections to the MCP servers in it.
CURL* mcp_thread_handle() {
  thread_local std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(),
                                                                          curl_easy_cleanup);
  if (handle) curl_easy_reset(handle.get());
  return handle.get();
}

struct McpExchange {
  CURL* curl = nullptr;
  const json* id = nullptr;  // null: a notification or a DELETE, no response expected
  const std::atomic<bool>* cancelled = nullptr;

  CURLcode rc = CURLE_OK;
  long status = -1;  // read on the first body byte, then again at the end
  std::string session_id;
  std::optional<McpResponseReader> reader;
  std::string error_body;  // of a non-200 answer, capped
  bool stopped = false;    // we stopped reading: response found, or body too large
  bool bad_type = false;   // a 200 that is neither JSON nor SSE
  bool was_cancelled = false;

  bool timed_out() const { return rc == CURLE_OPERATION_TIMEDOUT && !stopped; }
  bool failed() const { return rc != CURLE_OK && !stopped && !bad_type; }
};

size_t mcp_on_header(char* data, size_t size, size_t count, void* user) {
  auto* x = static_cast<McpExchange*>(user);
  std::string_view line(data, size * count);
  constexpr std::string_view kSession = "mcp-session-id:";
  if (base::starts_with_nocase(line, "HTTP/")) {
    x->session_id.clear();  // a new response (after a 1xx)
  } else if (base::starts_with_nocase(line, kSession)) {
    auto value = base::trim(line.substr(kSession.size()));
    // Visible ASCII only (the spec's rule); anything else is not a session id we can echo.
    bool ok = !value.empty() && value.size() <= 1024 &&
              std::all_of(value.begin(), value.end(), [](char c) { return c > 0x20 && c < 0x7F; });
    if (ok) x->session_id = std::string(value);
  }
  return size * count;
}

size_t mcp_on_body(char* data, size_t size, size_t count, void* user) {
  auto* x = static_cast<McpExchange*>(user);
  size_t n = size * count;
  if (x->status < 0) curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
  if (x->status == 200 && x->id) {
    if (!x->reader) {
      char* type = nullptr;
      curl_easy_getinfo(x->curl, CURLINFO_CONTENT_TYPE, &type);
      std::string_view t = type ? type : "";
      if (!is_sse_type(t) && !is_json_type(t)) {
        x->bad_type = true;
        return CURL_WRITEFUNC_ERROR;
      }
      x->reader.emplace(*x->id, is_sse_type(t));
    }
    if (x->reader->feed(std::string_view(data, n))) {
      x->stopped = true;  // no need to wait for the end of the stream
      return CURL_WRITEFUNC_ERROR;
    }
    return n;
  }
  if (x->error_body.size() < kMaxErrorBody)
    x->error_body.append(data, std::min(n, kMaxErrorBody - x->error_body.size()));
  return n;
}

int mcp_on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* x = static_cast<McpExchange*>(user);
  if (x->cancelled->load()) {
    x->was_cancelled = true;
    return 1;
  }
  return 0;
}

// One HTTP exchange on this thread's handle. `method` is POST (with `body`) or DELETE.
McpExchange mcp_http(const std::string& method, const std::string& url,
                     const std::vector<std::string>& header_lines, const std::string& body,
                     const json* id, McpClock::time_point deadline,
                     const std::atomic<bool>& cancelled) {
  McpExchange x;
  x.id = id;
  x.cancelled = &cancelled;
  auto remaining =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - McpClock::now());
  if (cancelled) {
    x.was_cancelled = true;
    x.rc = CURLE_ABORTED_BY_CALLBACK;
    return x;
  }
  if (remaining.count() <= 0) {
    x.rc = CURLE_OPERATION_TIMEDOUT;
    return x;
  }
  x.curl = mcp_thread_handle();
  if (!x.curl) {
    x.rc = CURLE_FAILED_INIT;
    return x;
  }
  CURL* curl = x.curl;
  auto headers = detail::set_request(curl, method, url, header_lines, body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(remaining, kMaxConnectTimeout).count()));
  detail::set_callbacks(curl, mcp_on_header, mcp_on_body, mcp_on_progress, &x);
  x.rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &x.status);
  if (x.reader && !x.stopped) x.reader->finish();
  // The handle outlives the call: it must not keep pointers into this frame.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, nullptr);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, nullptr);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, nullptr);
  x.curl = nullptr;
  return x;
}

// The JSON-RPC error message of an error body, if it is one.
std::string rpc_error_message(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& m = j["error"].value("message", json());
    if (m.is_string()) return m.get<std::string>();
  }
  return "";
}

// A server that forgot our session answers 404 (the spec). The TypeScript SDK's example
// servers, server-everything among them, answer an unknown session with a 400 whose JSON-RPC
// error says so; that is recognized too.
bool session_lost(const McpExchange& x) {
  if (x.failed()) return false;
  if (x.status == 404) return true;
  return x.status == 400 &&
         base::ascii_lower(rpc_error_message(x.error_body)).find("session") != std::string::npos;
}

// "HTTP 404 (not found)": the statuses of a wrong URL or credential are named.
std::string http_status_text(long status) {
  std::string text = "HTTP " + std::to_string(status);
  if (status == 401 || status == 403 || status == 404)
    text += " (" + base::ascii_lower(base::http_status_text(status)) + ")";
  return text;
}

}  // namespace

bool mcp_supported_version(std::string_view version) {
  return version == "2025-06-18" || version == "2025-03-26";
}

// --- McpResponseReader ---------------------------------------------------------------------

void McpResponseReader::consider(const json& message) {
  if (response_) return;
  if (message.is_array()) {
    for (const auto& m : message) consider(m);
    return;
  }
  if (!message.is_object() || message.contains("method")) return;  // notification or request
  bool has_outcome = message.contains("result") || message.contains("error");
  if (!has_outcome) return;
  const auto id = message.value("id", json());
  // A response to our id; or an error the server could not tie to a request (id null): ours,
  // as we send one request per POST.
  if (id == id_ || (id.is_null() && message.contains("error"))) response_ = message;
}

bool McpResponseReader::feed(std::string_view bytes) {
  if (response_ || too_large_) return true;
  if (sse_) {
    events_.clear();
    parser_.feed(bytes, events_);
    for (const auto& e : events_) {
      if (!e.event.empty() && e.event != "message") continue;
      if (e.data.empty()) continue;  // e.g. a priming event
      consider(json::parse(e.data, nullptr, false));
      if (response_) return true;
    }
    return false;
  }
  if (json_.size() + bytes.size() > kMaxJsonBytes) {
    too_large_ = true;
    json_.clear();
    return true;
  }
  json_.append(bytes);
  return false;
}

void McpResponseReader::finish() {
  if (response_ || too_large_) return;
  if (sse_) {
    events_.clear();
    parser_.finish(events_);
    for (const auto& e : events_)
      if ((e.event.empty() || e.event == "message") && !e.data.empty())
        consider(json::parse(e.data, nullptr, false));
    if (parser_.overflowed() && !response_) too_large_ = true;
    return;
  }
  consider(json::parse(json_, nullptr, false));
  json_.clear();
}

// --- McpClient -----------------------------------------------------------------------------

McpClient::McpClient(McpServerConfig config) : config_(std::move(config)) {
  static const std::set<std::string> kReserved = {
      "accept",         "content-type", "mcp-session-id", "mcp-protocol-version",
      "content-length", "host",         "expect"};
  for (size_t i = 0; i < config_.headers.size(); ++i) {
    const std::string& h = config_.headers[i];
    auto where = "mcp server \"" + config_.name + "\": header " + std::to_string(i + 1) + " ";
    auto colon = h.find(':');
    bool ok = colon != std::string::npos && colon > 0 &&
              h.find_first_of(std::string("\r\n\0", 3)) == std::string::npos;
    for (size_t k = 0; ok && k < colon; ++k) {
      unsigned char c = static_cast<unsigned char>(h[k]);
      ok = c > 0x20 && c < 0x7F;
    }
    if (!ok) throw std::invalid_argument(where + "is not \"Name: value\"");
    auto name = base::ascii_lower(std::string_view(h).substr(0, colon));
    if (kReserved.count(name)) throw std::invalid_argument(where + "(" + name + ") is reserved");
    auto value = base::trim(std::string_view(h).substr(colon + 1));
    if (value.size() >= 4) secrets_.emplace_back(value);
    // The token of "Bearer <token>" and the like, on its own.
    size_t pos = 0;
    while (pos < value.size()) {
      auto end = value.find(' ', pos);
      if (end == std::string_view::npos) end = value.size();
      if (end - pos >= 6) secrets_.emplace_back(value.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  // Longest first, so that a value is redacted whole before its parts.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string McpClient::redact(std::string text) const {
  for (const auto& secret : secrets_) {
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
      text.replace(at, secret.size(), "***");
  }
  return text;
}

void McpClient::fail(const std::string& what) const {
  throw McpError(redact(config_.name + ": " + what));
}

std::vector<std::string> McpClient::headers_for(const Session* session) const {
  std::vector<std::string> h = config_.headers;
  h.emplace_back("Accept: application/json, text/event-stream");
  h.emplace_back("Content-Type: application/json");
  if (session) {
    h.push_back("MCP-Protocol-Version: " + session->version);
    if (!session->id.empty()) h.push_back("Mcp-Session-Id: " + session->id);
  }
  return h;
}

std::string McpClient::protocol_version() const {
  std::lock_guard lock(mutex_);
  return initialized_ ? session_.version : std::string();
}

json McpClient::server_info() const {
  std::lock_guard lock(mutex_);
  return server_info_;
}

namespace {

// What went wrong with an exchange that brought no usable response, or the response's result.
struct Outcome {
  std::optional<json> result;
  std::string problem;
};

Outcome outcome_of(const std::string& method, const McpExchange& x,
                   std::chrono::milliseconds timeout) {
  auto reason = [&](std::string why) { return Outcome{std::nullopt, method + ": " + why}; };
  if (x.reader && x.reader->response()) {
    const json& r = *x.reader->response();
    if (r.contains("error")) {
      const json& e = r["error"];
      std::string code, message;
      if (e.is_object()) {
        if (e.contains("code") && e["code"].is_number_integer())
          code = std::to_string(e["code"].get<long long>());
        if (e.contains("message") && e["message"].is_string()) message = e["message"];
      }
      return reason("error" + (code.empty() ? "" : " " + code) +
                    (message.empty() ? "" : ": " + short_text(message)));
    }
    if (!r["result"].is_object()) return reason("malformed result");
    return Outcome{r["result"], ""};
  }
  if (x.was_cancelled) return reason("cancelled");
  if (x.timed_out()) return reason("timed out after " + std::to_string(timeout.count()) + " ms");
  if (x.failed()) return reason(detail::failure_text(x.rc, false, timeout));
  if (x.status != 200) {
    std::string text = http_status_text(x.status);
    if (x.status != 401 && x.status != 403) {
      auto m = rpc_error_message(x.error_body);
      if (!m.empty()) text += ": " + short_text(m);
    }
    return reason(text);
  }
  if (x.bad_type) return reason("unexpected response content type");
  if (x.reader && x.reader->too_large()) return reason("response too large");
  return reason("the server sent no response");
}

}  // namespace

McpClient::Session McpClient::ensure_session(Clock::time_point deadline) {
  {
    std::lock_guard lock(mutex_);
    if (initialized_) return session_;
  }
  if (!init_mutex_.try_lock_until(deadline))
    fail("initialize: timed out after " + std::to_string(config_.timeout.count()) + " ms");
  std::unique_lock init(init_mutex_, std::adopt_lock);
  {
    std::lock_guard lock(mutex_);
    if (initialized_) return session_;  // another thread did it meanwhile
  }
  return initialize(deadline);
}

McpClient::Session McpClient::initialize(Clock::time_point deadline) {
  json id = next_id_++;
  json body = {{"jsonrpc", "2.0"},
               {"id", id},
               {"method", "initialize"},
               {"params",
                {{"protocolVersion", kMcpProtocolVersion},
                 {"capabilities", json::object()},
                 {"clientInfo", {{"name", "chatd"}, {"version", "1.0"}}}}}};
  auto x =
      mcp_http("POST", config_.url, headers_for(nullptr), body.dump(), &id, deadline, cancelled_);
  auto out = outcome_of("initialize", x, config_.timeout);
  if (!out.result) fail(out.problem);
  const json& result = *out.result;
  std::string version;
  if (result.contains("protocolVersion") && result["protocolVersion"].is_string())
    version = result["protocolVersion"];
  if (!mcp_supported_version(version))
    fail("initialize: unsupported protocol version \"" + short_text(version, 40) + "\"");
  Session session{x.session_id, version, 0};

  json note = {{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}};
  auto n = mcp_http("POST", config_.url, headers_for(&session), note.dump(), nullptr, deadline,
                    cancelled_);
  auto note_out = outcome_of("notifications/initialized", n, config_.timeout);
  if (n.failed() || n.was_cancelled || n.status < 200 || n.status > 299) fail(note_out.problem);

  std::lock_guard lock(mutex_);
  session.generation = ++generation_;
  session_ = session;
  server_info_ = result.value("serverInfo", json());
  initialized_ = true;
  return session;
}

void McpClient::forget_session(std::uint64_t generation) {
  std::lock_guard lock(mutex_);
  if (initialized_ && session_.generation == generation) initialized_ = false;
}

json McpClient::request(const std::string& method, json params, const json* cancel_reason) {
  auto deadline = Clock::now() + config_.timeout;
  for (int attempt = 0;; ++attempt) {
    Session session = ensure_session(deadline);
    json id = next_id_++;
    json body = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) body["params"] = params;
    auto x = mcp_http("POST", config_.url, headers_for(&session), body.dump(), &id, deadline,
                      cancelled_);
    if (attempt == 0 && !session.id.empty() && session_lost(x)) {
      forget_session(session.generation);
      continue;
    }
    auto out = outcome_of(method, x, config_.timeout);
    if (out.result) return *out.result;
    if (x.timed_out() && cancel_reason) {
      // Tell the server to stop working on it (best effort, briefly).
      json note = {{"jsonrpc", "2.0"},
                   {"method", "notifications/cancelled"},
                   {"params", {{"requestId", id}, {"reason", *cancel_reason}}}};
      mcp_http("POST", config_.url, headers_for(&session), note.dump(), nullptr,
               Clock::now() + std::min(config_.timeout, kCancelNoticeTimeout), cancelled_);
    }
    fail(out.problem);
  }
}

std::vector<McpTool> McpClient::list_tools() {
  std::vector<McpTool> tools;
  std::set<std::string> cursors;
  std::string cursor;
  for (int page = 0; page < kMaxPages; ++page) {
    json params;
    if (!cursor.empty()) params = {{"cursor", cursor}};
    json result = request("tools/list", params);
    if (!result.contains("tools") || !result["tools"].is_array())
      fail("tools/list: malformed result");
    for (const auto& t : result["tools"]) {
      if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
      std::string name = t["name"];
      if (t.contains("execution") && t["execution"].is_object() &&
          t["execution"].value("taskSupport", json()) == "required")
        continue;
      const auto& allowed = config_.allowed_tools;
      if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), name) == allowed.end())
        continue;
      McpTool tool;
      tool.name = std::move(name);
      if (t.contains("description") && t["description"].is_string())
        tool.description = t["description"];
      else if (t.contains("title") && t["title"].is_string())
        tool.description = t["title"];
      tool.input_schema = t.value("inputSchema", json());
      if (!tool.input_schema.is_object()) tool.input_schema = {{"type", "object"}};
      tools.push_back(std::move(tool));
    }
    std::string next;
    if (result.contains("nextCursor") && result["nextCursor"].is_string())
      next = result["nextCursor"];
    if (next.empty()) return tools;
    if (!cursors.insert(next).second) fail("tools/list: the server repeats a cursor");
    cursor = std::move(next);
  }
  fail("tools/list: more than " + std::to_string(kMaxPages) + " pages");
}

McpCallResult McpClient::call_tool(const std::string& name, const json& arguments,
                                   const json& meta) {
  const auto& allowed = config_.allowed_tools;
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), name) == allowed.end())
    fail("tool \"" + short_text(name, 64) + "\" is not allowed");
  json params = {{"name", name}, {"arguments", arguments.is_null() ? json::object() : arguments}};
  if (!meta.is_null()) params["_meta"] = meta;
  static const json kTimedOut = "timed out";
  json result = request("tools/call", std::move(params), &kTimedOut);
  McpCallResult out;
  if (result.contains("content") && result["content"].is_array()) out.content = result["content"];
  if (result.contains("structuredContent")) out.structured = result["structuredContent"];
  out.is_error = result.value("isError", json(false)) == true;
  return out;
}

void McpClient::close() {
  if (!init_mutex_.try_lock_for(config_.timeout)) return;
  std::unique_lock init(init_mutex_, std::adopt_lock);
  Session session;
  {
    std::lock_guard lock(mutex_);
    if (!initialized_) return;
    session = session_;
    initialized_ = false;
  }
  if (session.id.empty()) return;
  mcp_http("DELETE", config_.url, headers_for(&session), "", nullptr,
           Clock::now() + std::min(config_.timeout, kMaxConnectTimeout), cancelled_);
}

}  // namespace chatd::llm
