#include "handlers/http.hpp"

#include <nlohmann/json.hpp>

namespace chatd::http {

namespace {

const std::string kEmpty;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

const std::string* Request::header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? nullptr : &it->second;
}

const std::string& Request::path_param(std::string_view name) const {
  auto it = path_params.find(name);
  return it == path_params.end() ? kEmpty : it->second;
}

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq), true) != name) continue;
    return eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

std::optional<std::string> Request::cookie(std::string_view name) const {
  const std::string* cookies = header("cookie");
  if (!cookies) return std::nullopt;
  std::string_view rest = *cookies;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view pair = trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return std::string(value);
  }
  return std::nullopt;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

bool respond(ResponseWriter& out, int status, std::string_view content_type, std::string_view body,
             Headers headers) {
  headers.emplace_back("Content-Type", std::string(content_type));
  headers.emplace_back("Content-Length", std::to_string(body.size()));
  return out.start(status, headers) && out.write(body);
}

std::string escape_html_in_json(std::string json) {
  size_t specials = 0;
  for (char c : json) specials += (c == '<' || c == '>' || c == '&');
  if (specials == 0) return json;
  std::string out;
  out.reserve(json.size() + specials * 5);
  for (char c : json) {
    switch (c) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool respond_json(ResponseWriter& out, int status, const nlohmann::ordered_json& body,
                  Headers headers) {
  auto text =
      escape_html_in_json(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return respond(out, status, "application/json; charset=utf-8", text, std::move(headers));
}

}  // namespace chatd::http
