#include "base/clock.hpp"

#include <sys/time.h>

#include <cstdio>
#include <ctime>

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

}  // namespace chatd::base
