// GET /metrics and GET /status: what the process model reports about itself. Public in the
// route table; nginx passes them on from loopback only (nginx/chatd.conf).
#pragma once

#include "handlers/context.hpp"
#include "handlers/http.hpp"

namespace chatd::http {

// Prometheus text format (version 0.0.4), every worker's counters added up.
void get_metrics(Context& context, Request& request, ResponseWriter& out);
// The scoreboard as JSON: the master, each worker and the requests in flight.
void get_status(Context& context, Request& request, ResponseWriter& out);

}  // namespace chatd::http
