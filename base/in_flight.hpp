// A count of things under way (request threads, live responses) that a drain waits to see at
// zero.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace chatd::base {

class InFlight {
 public:
  void add(size_t n = 1);
  void remove();
  // Waits until none is under way; false when `deadline` passed first.
  bool wait_zero(std::chrono::steady_clock::time_point deadline);

 private:
  std::mutex mutex_;
  std::condition_variable zero_;
  size_t count_ = 0;
};

}  // namespace chatd::base
