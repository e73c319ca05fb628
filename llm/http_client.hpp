// HTTP for the reply loop: libcurl's multi interface on a base::EventLoop, its sockets and its
// timers in the loop's epoll set (curl_multi_socket_action). Any number of transfers run on the
// loop's one thread; nothing here blocks, and every callback runs on that thread.
//
// The transfers are spread over multi handles of at most kTransfersPerMulti each ("shards",
// made as needed and kept with their idle connections): libcurl 7.88 (Debian 12) walks every
// connection of a multi handle's cache when a transfer ends and when one looks for a connection
// to reuse, so with thousands of streams to one HTTP/1.1 server in a single multi handle each
// start and end cost a walk over thousands of connections, on the loop.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/event_loop.hpp"
#include "llm/model.hpp"
#include "llm/transport.hpp"

namespace chatd::llm {

// Streamed HTTP calls on the loop, as a reply makes them (HttpClient; a scripted one in the unit
// tests).
class Upstream {
 public:
  // What on_data answers for the bytes it was given.
  enum class Take {
    kTaken,
    // Not taken (the reader is behind): the transfer pauses, without counting as idle, and
    // the same bytes come again after resume(). This is the loop's back-pressure.
    kFull,
    kAbort,  // the transfer ends with HttpResult::aborted
  };
  struct Handlers {
    // A 200's body as it arrives. Null: the body is kept in HttpResult::body (up to max_body),
    // as it always is for another status.
    std::function<Take(std::string_view)> on_data;
    // Exactly once per transfer that was not abort()ed, on the loop, never from inside start().
    std::function<void(HttpResult)> on_done;
  };
  using Id = uint64_t;

  virtual ~Upstream() = default;
  // Not from inside on_data (answer kAbort there instead of calling abort()).
  virtual Id start(const HttpCall& call, Handlers handlers) = 0;
  virtual void resume(Id id) = 0;  // after on_data answered kFull; an unknown id is ignored
  virtual void abort(Id id) = 0;   // its on_done is not called; an unknown id is ignored
};

class HttpClient : public Upstream {
 public:
  HttpClient(base::EventLoop& loop, TransportLimits limits);
  ~HttpClient();  // drops what still runs; their on_done is not called
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Id start(const HttpCall& call, Handlers handlers) override;
  void resume(Id id) override;
  void abort(Id id) override;
  size_t running() const { return transfers_.size(); }
  size_t shards() const { return shards_.size(); }
  const TransportLimits& limits() const { return limits_; }

  static constexpr size_t kTransfersPerMulti = 64;

  struct Transfer;  // one request, its easy handle and its state
  struct Shard;     // one multi handle, its timer, how many transfers it runs

 private:
  static int on_socket(CURL* easy, curl_socket_t socket, int what, void* shard, void*);
  static int on_timer(CURLM* multi, long timeout_ms, void* shard);
  Shard& shard_for_new_transfer();
  void act(Shard& shard, curl_socket_t socket, int flags);
  void finish(Transfer& transfer, CURLcode code);
  void arm_idle(Transfer& transfer);
  void drop(Id id);

  base::EventLoop& loop_;
  const TransportLimits limits_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::unordered_map<Id, std::unique_ptr<Transfer>> transfers_;
  std::unordered_set<curl_socket_t> sockets_;  // watched in the loop for curl
  Id next_id_ = 1;
};

}  // namespace chatd::llm
