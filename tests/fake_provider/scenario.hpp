// fake_provider: turns one HTTP request into a reply (routing, keys, scripts, errors).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "wire.hpp"

namespace fake {

struct HttpRequest {
  std::string method;
  std::string target;  // as sent: path plus query
  std::string path;
  std::string query;                                         // without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;

  const std::string* header(std::string_view name) const;
};

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int delay_ms = 0;                        // send the whole reply after this long
  std::unique_ptr<StreamRenderer> stream;  // set: a 200 event stream, `body` unused
  bool never = false;                      // non-streamed stall: never answer
  bool cut = false;                        // non-streamed cut: close without an answer

  // For the log.
  std::string provider;
  std::string model;
  std::string scenario;
  int step = -1;
};

class Fake {
 public:
  Reply handle(const HttpRequest& request);

 private:
  Reply chat(Provider provider, const HttpRequest& request, std::string model, bool stream,
             bool gemini_sse);
  Reply error(Provider provider, int status, std::string message = {}, bool quota = false,
              const std::string& retry_after = {});

  std::unordered_map<std::string, int> failures_;  // script + step -> failures served
  uint64_t seq_ = 0;
  uint64_t signatures_ = 0;
};

}  // namespace fake
