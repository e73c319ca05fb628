#include "handlers/http.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/json_text.hpp"
#include "base/text.hpp"

namespace chatd::http {

namespace {

const std::string kEmpty;

}  // namespace

const std::string* Request::header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? nullptr : &it->second;
}

size_t Request::read(char* to, size_t n) {
  size_t got = 0;
  if (!read_body) {  // a body read whole: handed out from `body`
    got = std::min(n, body.size() - std::min(body.size(), body_read));
    std::copy_n(body.data() + body_read, got, to);
    body_read += got;
    return got;
  }
  while (got < n) {
    size_t more = read_body(to + got, n - got);
    if (more == 0) break;
    got += more;
  }
  return got;
}

const std::string& Request::path_param(std::string_view name) const {
  auto it = path_params.find(name);
  return it == path_params.end() ? kEmpty : it->second;
}

namespace {

// Calls fn(value) for each value of the query parameter `name`, in order, until fn returns
// false.
template <class Fn>
void each_query_value(std::string_view query, std::string_view name, Fn&& fn) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (base::percent_decode(pair.substr(0, eq), true) != name) continue;
    if (!fn(eq == std::string_view::npos ? std::string{}
                                         : base::percent_decode(pair.substr(eq + 1), true)))
      return;
  }
}

}  // namespace

std::vector<std::string> Request::query_params(std::string_view name) const {
  std::vector<std::string> values;
  each_query_value(query, name, [&](std::string value) {
    values.push_back(std::move(value));
    return true;
  });
  return values;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::optional<std::string> first;
  each_query_value(query, name, [&](std::string value) {
    first = std::move(value);
    return false;
  });
  return first;
}

std::optional<std::string> Request::cookie(std::string_view name) const {
  const std::string* cookies = header("cookie");
  if (!cookies) return std::nullopt;
  std::string_view rest = *cookies;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view pair = base::trim(rest.substr(0, semi), base::kHttpWhitespace);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos ||
        base::trim(pair.substr(0, eq), base::kHttpWhitespace) != name)
      continue;
    std::string_view value = base::trim(pair.substr(eq + 1), base::kHttpWhitespace);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return std::string(value);
  }
  return std::nullopt;
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
  auto text = escape_html_in_json(base::json_text(body));
  return respond(out, status, "application/json; charset=utf-8", text, std::move(headers));
}

}  // namespace chatd::http
