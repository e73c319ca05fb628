#include "worker/counters.hpp"

#include <algorithm>
#include <thread>

#include "handlers/routes.hpp"

namespace chatd::metrics {

namespace {

void add(Counter& counter, uint64_t n = 1) { counter.fetch_add(n, std::memory_order_relaxed); }

}  // namespace

void Histogram::observe(std::chrono::microseconds duration) {
  double seconds = static_cast<double>(duration.count()) / 1e6;
  size_t bucket = 0;
  while (bucket < kLatencyBounds.size() && seconds > kLatencyBounds[bucket]) ++bucket;
  add(buckets[bucket]);
  add(sum_us, static_cast<uint64_t>(std::max<int64_t>(0, duration.count())));
}

size_t route_index(std::string_view method, std::string_view pattern) {
  auto table = http::routes();
  for (size_t i = 0; i < table.size() && i < kUnmatchedRoute; ++i)
    if (table[i].method == method && table[i].pattern == pattern) return i;
  return kUnmatchedRoute;
}

size_t status_index(long status) {
  return status > 0 && status < static_cast<long>(kStatusCodes) ? static_cast<size_t>(status) : 0;
}

size_t provider_index(std::string_view type) {
  for (size_t i = 0; i < llm::kProviderTypes.size(); ++i)
    if (llm::kProviderTypes[i].type == type) return i;
  return kProviderSlots - 1;
}

std::string_view provider_label(size_t index) {
  return index < llm::kProviderTypes.size() ? llm::kProviderTypes[index].type : "other";
}

size_t slot_index(SlotName* slots, size_t size, std::string_view name) {
  if (name.empty()) return size;
  for (size_t i = 0; i < size; ++i) {
    auto& entry = slots[i];
    uint32_t state = entry.state.load(std::memory_order_acquire);
    if (state == 0) {
      if (entry.state.compare_exchange_strong(state, 1, std::memory_order_acq_rel)) {
        entry.name.store(name);
        entry.state.store(2, std::memory_order_release);
        return i;
      }
    }
    // Another thread or process is naming this entry: it takes a moment.
    for (int spin = 0; state == 1 && spin < 1000; ++spin) {
      std::this_thread::yield();
      state = entry.state.load(std::memory_order_acquire);
    }
    if (state == 2 && entry.name.load() == name) return i;
  }
  return size;
}

std::optional<std::string> slot_label(const SlotName* slots, size_t size, size_t index,
                                      std::string_view fallback) {
  if (index == size) return std::string(fallback);
  if (slots[index].state.load(std::memory_order_acquire) != 2) return std::nullopt;
  return slots[index].name.load();
}

}  // namespace chatd::metrics
