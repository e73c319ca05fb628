// A ResponseWriter that records what a handler sends, for the unit tests.
#pragma once

#include <string>
#include <string_view>

#include "handlers/http.hpp"

namespace chatd::testing {

class FakeResponseWriter : public http::ResponseWriter {
 public:
  bool write(std::string_view data) override {
    if (gone) return false;
    body.append(data);
    ++writes;
    return true;
  }
  bool flush() override {
    ++flushes;
    return !gone;
  }

  // The value of the first header with this exact name, or nullptr.
  const std::string* header(std::string_view name) const {
    for (const auto& [key, value] : headers)
      if (key == name) return &value;
    return nullptr;
  }

  int heads = 0;  // how many times write_head ran
  int head_status = 0;
  http::Headers headers;
  std::string body;
  int writes = 0;
  int flushes = 0;
  bool gone = false;  // set to simulate a client that went away

 protected:
  bool write_head(int status, const http::Headers& sent) override {
    ++heads;
    head_status = status;
    headers = sent;
    return !gone;
  }
};

}  // namespace chatd::testing
