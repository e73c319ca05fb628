#include "llm/curl_request.hpp"

#include "base/text.hpp"

namespace chatd::llm::detail {

CurlHeaders set_request(CURL* curl, const std::string& method, const std::string& url,
                        const std::vector<std::string>& headers, const std::string& body) {
  CurlHeaders list(nullptr, curl_slist_free_all);
  for (const auto& h : headers) list.reset(curl_slist_append(list.release(), h.c_str()));
  list.reset(curl_slist_append(list.release(), "Expect:"));
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else if (method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  return list;
}

void set_callbacks(CURL* curl, curl_write_callback on_header, curl_write_callback on_body,
                   curl_xferinfo_callback on_progress, void* exchange) {
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, exchange);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, exchange);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, exchange);
}

std::optional<std::string> retry_after(std::string_view line) {
  constexpr std::string_view kRetryAfter = "retry-after:";
  if (line.size() <= kRetryAfter.size() || !base::starts_with_nocase(line, kRetryAfter))
    return std::nullopt;
  return std::string(base::trim(line.substr(kRetryAfter.size())).substr(0, 64));
}

std::string failure_text(CURLcode code, bool stalled, std::chrono::milliseconds idle_timeout) {
  if (stalled)
    return "no data for " +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(idle_timeout).count()) +
           " s";
  if (code == CURLE_OPERATION_TIMEDOUT) return "timed out";
  if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST) return "cannot connect";
  return curl_easy_strerror(code);
}

}  // namespace chatd::llm::detail
