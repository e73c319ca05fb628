// A response on the reply loop once its headers are out (http::LiveResponse): the FastCGI
// records are framed by chatd (worker/fcgi_framer.hpp) and written to the request's connection
// without blocking, as the connection takes them. A client that falls behind makes behind()
// true (the reply pauses its provider); one that stops reading for longer than
// kStalledWriteTimeout plus a second per kSlowestReader bytes, or whose connection closes,
// counts as gone.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/in_flight.hpp"
#include "handlers/http.hpp"

namespace chatd {

// A live response's line in the request log needs both the end of the response (on the loop)
// and the handler's outcome (on its request thread): whichever comes second writes it.
class RequestEnd {
 public:
  using Log = std::function<void(const http::ResponseEnd& end, uint64_t bytes)>;
  void response_ended(const http::ResponseEnd& end, uint64_t bytes);
  void log_with(Log log);

 private:
  std::mutex mutex_;
  std::optional<std::pair<http::ResponseEnd, uint64_t>> ended_;
  Log log_;
};

// More than this unsent and the reader is behind.
inline constexpr size_t kBehindAbove = 64 * 1024;

class LiveConnection : public http::LiveResponse {
 public:
  // `pending`: records not yet sent (the headers); `open` counts the live connections of the
  // worker, for its drain.
  LiveConnection(int fd, uint16_t request_id, std::string pending, bool gone,
                 std::shared_ptr<RequestEnd> end, base::InFlight& open);
  ~LiveConnection() override;
  void attach(base::EventLoop& loop, std::function<void()> on_ready) override;
  bool write(std::string_view data) override;
  bool behind() const override;
  void finish(const http::ResponseEnd& end) override;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace chatd
