// The one error type of the API and its JSON (Coder's codersdk.Response). Handlers throw it;
// the router writes it. No handler writes an error body by hand.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "handlers/http.hpp"

namespace chatd::http {

struct Validation {
  std::string field;
  std::string detail;
};

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string detail = {},
           std::vector<Validation> validations = {}, Headers headers = {})
      : std::runtime_error(message),
        status(status),
        message(std::move(message)),
        detail(std::move(detail)),
        validations(std::move(validations)),
        headers(std::move(headers)) {}

  int status;
  std::string message;
  std::string detail;  // omitted from the JSON when empty
  std::vector<Validation> validations;
  Headers headers;  // extra response headers (Allow, WWW-Authenticate, Retry-After)
};

// {"message": ..., "detail": ..., "validations": [...]}, empty fields omitted.
nlohmann::ordered_json error_body(const ApiError& error);
bool write_error(ResponseWriter& out, const ApiError& error);

// The errors more than one handler raises, with the exact texts of the contract.
ApiError route_not_found();
ApiError method_not_allowed(const std::string& allow);
ApiError body_too_large();
ApiError resource_not_found();
ApiError database_unavailable();
ApiError internal_error();

}  // namespace chatd::http
