#include "llm/transport.hpp"

#include <curl/curl.h>

#include <memory>

#include "llm/curl_request.hpp"

namespace chatd::llm {

namespace {

using Clock = std::chrono::steady_clock;

// One handle per thread for the thread's life: curl keeps its connection cache in it.
CURL* thread_handle() {
  thread_local std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(),
                                                                          curl_easy_cleanup);
  curl_easy_reset(handle.get());
  return handle.get();
}

struct Exchange {
  const TransportLimits* limits;
  HttpResult result;
  Clock::time_point last_activity = Clock::now();
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* x = static_cast<Exchange*>(user);
  if (auto value = detail::retry_after(std::string_view(data, size * count)))
    x->result.retry_after = std::move(*value);
  x->last_activity = Clock::now();
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* x = static_cast<Exchange*>(user);
  size_t n = size * count;
  x->last_activity = Clock::now();
  if (x->result.body.size() < x->limits->max_body)
    x->result.body.append(data, std::min(n, x->limits->max_body - x->result.body.size()));
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* x = static_cast<Exchange*>(user);
  auto now = Clock::now();
  if (now - x->last_activity > x->limits->idle_timeout) {
    x->result.stalled = true;
    return 1;
  }
  return 0;
}

}  // namespace

HttpResult Transport::fetch(const HttpCall& call) const {
  CURL* curl = thread_handle();
  Exchange x{&limits_, {}};
  auto headers = detail::set_request(curl, call.method, call.url, call.headers, call.body);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(limits_.connect_timeout.count()));
  detail::set_callbacks(curl, on_header, on_body, on_progress, &x);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &x.result.status);
  if (rc != CURLE_OK)
    x.result.error = detail::failure_text(rc, x.result.stalled, limits_.idle_timeout);
  // The handle outlives the call: it must not keep pointers into this frame.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  return x.result;
}

}  // namespace chatd::llm
