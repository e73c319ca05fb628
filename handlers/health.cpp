#include "handlers/health.hpp"

#include "sql/pool.hpp"

namespace chatd::http {

void get_health(Context& context, Request&, ResponseWriter& out) {
  bool healthy = false;
  try {
    healthy = context.store.ping();
  } catch (const sql::DatabaseUnavailable&) {
  }
  if (healthy)
    respond(out, 200, "text/plain; charset=utf-8", "OK");
  else
    respond(out, 503, "text/plain; charset=utf-8", "database unavailable", {{"Retry-After", "1"}});
}

}  // namespace chatd::http
