// Structured logs: one JSON object per line on stderr (journald keeps them as they are).
// Never pass tokens, API keys or message text as fields.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace chatd::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Set once at start-up (and on reload) by the process that logs.
void set_level(std::string_view name);
bool enabled(Level level);

// While one lives, every line this thread writes carries "request_id" (unless the fields
// have their own): errors logged deep in a request can be told apart and joined to it.
class RequestScope {
 public:
  explicit RequestScope(std::string request_id);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

 private:
  std::string previous_;
};

// Writes {"time","level","pid","msg", ...fields} in one write(2), so lines from many threads
// and processes never interleave.
void write(Level level, std::string_view message, const nlohmann::ordered_json& fields = {});

inline void debug(std::string_view m, const nlohmann::ordered_json& f = {}) {
  write(Level::kDebug, m, f);
}
inline void info(std::string_view m, const nlohmann::ordered_json& f = {}) {
  write(Level::kInfo, m, f);
}
inline void warn(std::string_view m, const nlohmann::ordered_json& f = {}) {
  write(Level::kWarn, m, f);
}
inline void error(std::string_view m, const nlohmann::ordered_json& f = {}) {
  write(Level::kError, m, f);
}

}  // namespace chatd::log
