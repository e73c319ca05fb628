#include "base/clock.hpp"

#include <sys/time.h>

#include <cstdio>
#include <ctime>
#include <regex>

namespace chatd::base {

std::string now_rfc3339() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm utc;
  gmtime_r(&tv.tv_sec, &utc);
  char buf[40];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(buf + n, sizeof buf - n, ".%06ldZ", static_cast<long>(tv.tv_usec));
  return buf;
}

bool rfc3339_form(std::string_view text) {
  static const std::regex kForm(
      R"(^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$)");
  return std::regex_match(text.begin(), text.end(), kForm);
}

}  // namespace chatd::base
