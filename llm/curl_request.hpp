// What chatd's two libcurl clients share (llm/transport.cpp for the providers,
// llm/mcp_client.cpp for MCP servers): the options of one request on a reused handle.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>
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

}  // namespace chatd::llm::detail
