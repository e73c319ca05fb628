#include "base/in_flight.hpp"

namespace chatd::base {

void InFlight::add(size_t n) {
  std::lock_guard lock(mutex_);
  count_ += n;
}

void InFlight::remove() {
  std::lock_guard lock(mutex_);
  if (--count_ == 0) zero_.notify_all();
}

bool InFlight::wait_zero(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return zero_.wait_until(lock, deadline, [&] { return count_ == 0; });
}

}  // namespace chatd::base
