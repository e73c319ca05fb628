#include "handlers/auth.hpp"

#include <algorithm>
#include <cmath>

#include "base/text.hpp"
#include "base/token.hpp"
#include "handlers/error.hpp"
#include "handlers/observer.hpp"

namespace chatd::http {

namespace {

constexpr const char* kCookieName = "coder_session_token";
constexpr const char* kSignedOut =
    "You are signed out or your session has expired. Please sign in again to continue.";

ApiError unauthorized(std::string message, std::string detail) {
  return ApiError(401, std::move(message), std::move(detail), {},
                  {{"WWW-Authenticate", "Bearer realm=\"chatd\""}});
}

ApiError signed_out(std::string detail) { return unauthorized(kSignedOut, std::move(detail)); }

ApiError rate_limited(double retry_after_seconds) {
  // Whole seconds, rounded up, at least 1 (RFC 9110 §10.2.3).
  double whole = std::ceil(std::max(1.0, std::min(retry_after_seconds, 86400.0)));
  return ApiError(429, "Rate limit exceeded: too many requests. Try again later.", {}, {},
                  {{"Retry-After", std::to_string(static_cast<long>(whole))}});
}

// "host", "host:port", "[v6]" or "[v6]:port" without the port (digits after the last colon,
// outside brackets); anything else as it is.
std::string_view host_name(std::string_view authority) {
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == authority.size() ||
      authority.find(']', colon) != std::string_view::npos)
    return authority;
  for (char c : authority.substr(colon + 1))
    if (c < '0' || c > '9') return authority;
  return authority.substr(0, colon);
}

// A browser sends the cookie with every request to this site, also with one that another site
// starts (a form, a fetch): an unsafe request that the cookie authenticates must come from this
// site. Browsers say where a request comes from in Sec-Fetch-Site and, on every unsafe request,
// in Origin; a client that sends neither is no browser and picked the cookie itself.
void refuse_cross_site(const Request& request) {
  if (request.method == "GET" || request.method == "HEAD" || request.method == "OPTIONS") return;
  bool cross_site = false;
  if (const auto* site = request.header("sec-fetch-site"))
    cross_site = *site != "same-origin" && *site != "none";
  if (const auto* origin = request.header("origin")) {
    // "scheme://host[:port]" against the Host the request was sent to ("null": an opaque
    // origin). Host names only: Debian's fastcgi_params passes nginx's $host, without a port.
    const auto* host = request.header("host");
    auto scheme_end = origin->find("://");
    cross_site = cross_site || !host || scheme_end == std::string::npos ||
                 !base::equals_nocase(host_name(std::string_view(*origin).substr(scheme_end + 3)),
                                      host_name(*host));
  }
  if (cross_site)
    throw ApiError(403, "Cross-site request refused.",
                   "A request authenticated by the session cookie must come from this site "
                   "(Origin and Sec-Fetch-Site).");
}

}  // namespace

std::string find_token(const Request& request) {
  if (auto cookie = request.cookie(kCookieName); cookie && !cookie->empty()) return *cookie;
  if (auto query = request.query_param(kCookieName); query && !query->empty()) return *query;
  if (auto header = request.header("coder-session-token"); header && !header->empty())
    return *header;
  if (auto header = request.header("authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (header->size() > kBearer.size() && base::starts_with_nocase(*header, kBearer))
      return header->substr(kBearer.size());
  }
  return {};
}

Credentials read_credentials(const Request& request) {
  std::string token = find_token(request);
  if (token.empty())
    throw signed_out("Cookie \"coder_session_token\" or query parameter must be provided.");
  if (auto cookie = request.cookie(kCookieName); cookie && *cookie == token)
    refuse_cross_site(request);
  auto parts = base::split_token(token);
  if (auto* reason = std::get_if<std::string>(&parts))
    throw signed_out("Invalid API key format: " + *reason);
  const auto& [id, secret] = std::get<base::TokenParts>(parts);
  return {id, base::hash_secret(secret)};
}

sql::KeyCheck key_check(const Context& context, const Request& request) {
  return {request.credentials->api_key_id, request.credentials->hashed_secret, context.rate_limit};
}

const Identity& admit(Context& context, Request& request,
                      const std::optional<sql::ApiKeyRecord>& key) {
  const Credentials& credentials = *request.credentials;
  if (!key) throw signed_out("API key is invalid.");
  if (!base::constant_time_equal(credentials.hashed_secret, key->hashed_secret))
    throw signed_out("API key secret is invalid.");
  if (key->expired) throw signed_out("API key expired at \"" + key->expires_at + "\".");
  if (key->user_status != "active")
    throw unauthorized("User is not active (status = \"" + key->user_status +
                           "\"). Contact an admin to reactivate your account.",
                       {});
  // The same round trip counted the request against the user's rate limit (a retry on a
  // dropped connection may count it twice; that errs on the safe side).
  if (key->retry_after) throw rate_limited(*key->retry_after);
  // The statement judged the same; a read joined its data on its verdict.
  if (!key->admitted) throw signed_out("API key is invalid.");
  if (context.observer) context.observer->on_user(key->user_id);
  return request.identity.emplace(
      Identity{key->user_id, credentials.api_key_id, key->user_is_admin});
}

const Identity& authenticate(Context& context, Request& request) {
  return admit(context, request, context.store.auth.find_key(key_check(context, request)));
}

}  // namespace chatd::http
