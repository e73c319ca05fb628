#include "handlers/error.hpp"

#include <nlohmann/json.hpp>

namespace chatd::http {

nlohmann::ordered_json error_body(const ApiError& error) {
  nlohmann::ordered_json body = {{"message", error.message}};
  if (!error.detail.empty()) body["detail"] = error.detail;
  if (!error.validations.empty()) {
    auto& list = body["validations"] = nlohmann::ordered_json::array();
    for (const auto& v : error.validations)
      list.push_back({{"field", v.field}, {"detail", v.detail}});
  }
  return body;
}

bool write_error(ResponseWriter& out, const ApiError& error) {
  return respond_json(out, error.status, error_body(error), error.headers);
}

ApiError route_not_found() { return ApiError(404, "Route not found."); }

ApiError method_not_allowed(const std::string& allow) {
  return ApiError(405, "Method not allowed.", {}, {}, {{"Allow", allow}});
}

ApiError body_too_large() { return ApiError(413, "Request body too large."); }

ApiError resource_not_found() {
  return ApiError(404, "Resource not found or you do not have access to this resource");
}

ApiError database_unavailable() {
  return ApiError(503, "The database is unavailable. Please try again later.", {}, {},
                  {{"Retry-After", "1"}});
}

ApiError internal_error() {
  return ApiError(500,
                  "An internal error occurred. Please try again or contact the system "
                  "administrator.");
}

}  // namespace chatd::http
