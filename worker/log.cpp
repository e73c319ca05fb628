#include "worker/log.hpp"

#include <unistd.h>

#include <atomic>

#include "base/clock.hpp"
#include "base/json_text.hpp"

namespace chatd::log {

namespace {

std::atomic<Level> g_level{Level::kInfo};
thread_local std::string t_request_id;

constexpr const char* kNames[] = {"debug", "info", "warn", "error"};

}  // namespace

RequestScope::RequestScope(std::string request_id) : previous_(std::move(t_request_id)) {
  t_request_id = std::move(request_id);
}

RequestScope::~RequestScope() { t_request_id = std::move(previous_); }

void set_level(std::string_view name) {
  for (int i = 0; i < 4; ++i)
    if (name == kNames[i]) g_level = static_cast<Level>(i);
}

bool enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view message, const nlohmann::ordered_json& fields) {
  if (!enabled(level)) return;
  nlohmann::ordered_json line = {{"time", base::now_rfc3339()},
                                 {"level", kNames[static_cast<int>(level)]},
                                 {"pid", getpid()},
                                 {"msg", message}};
  if (!t_request_id.empty() && !(fields.is_object() && fields.contains("request_id")))
    line["request_id"] = t_request_id;
  if (fields.is_object())
    for (const auto& [key, value] : fields.items()) line[key] = value;
  std::string text = base::json_text(line) + "\n";
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace chatd::log
