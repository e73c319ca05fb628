// What chatd's libcurl clients share (llm/transport.cpp and llm/http_client.cpp for the
// providers, llm/mcp_client.cpp for MCP servers): the options of one request on a handle, and
// how its answer is read.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatd::llm::detail {

using CurlHeaders = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

// Sets the URL, the headers (and "Expect:": no 100-continue round trip), the method with its
// body, and what every request gets: http(s) only, any content encoding, TCP keep-alive, no
// signals. The returned list and `body` must outlive the transfer.
CurlHeaders set_request(CURL* curl, const std::string& method, const std::string& url,
                        const std::vector<std::string>& headers, const std::string& body);

// Points the header, body and progress callbacks at `exchange`, the transfer's own state.
void set_callbacks(CURL* curl, curl_write_callback on_header, curl_write_callback on_body,
                   curl_xferinfo_callback on_progress, void* exchange);

// The value of a "Retry-After:" header line (trimmed, at most 64 bytes); none for another line.
std::optional<std::string> retry_after(std::string_view header_line);

// A failed transfer, short and safe to show: "no data for 60 s" when it stalled, "timed out",
// "cannot connect", or libcurl's text.
std::string failure_text(CURLcode code, bool stalled, std::chrono::milliseconds idle_timeout);

}  // namespace chatd::llm::detail
