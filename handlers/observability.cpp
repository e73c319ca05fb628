#include "handlers/observability.hpp"

#include "handlers/error.hpp"
#include "handlers/observer.hpp"

namespace chatd::http {

void get_metrics(Context& context, Request&, ResponseWriter& out) {
  if (!context.observer) throw route_not_found();
  respond(out, 200, "text/plain; version=0.0.4; charset=utf-8", context.observer->metrics_text(),
          {{"Cache-Control", "no-store"}});
}

void get_status(Context& context, Request&, ResponseWriter& out) {
  if (!context.observer) throw route_not_found();
  respond_json(out, 200, context.observer->status_json(), {{"Cache-Control", "no-store"}});
}

}  // namespace chatd::http
