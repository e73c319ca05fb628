#include "handlers/routes.hpp"

#include "base/text.hpp"
#include "base/uuid.hpp"
#include "handlers/auth.hpp"
#include "handlers/chats.hpp"
#include "handlers/deployment.hpp"
#include "handlers/error.hpp"
#include "handlers/files.hpp"
#include "handlers/health.hpp"
#include "handlers/messages.hpp"
#include "handlers/observability.hpp"
#include "handlers/observer.hpp"
#include "handlers/replies.hpp"
#include "handlers/usage.hpp"
#include "handlers/watch.hpp"
#include "sql/error_text.hpp"
#include "sql/pool.hpp"
#include "sql/statement.hpp"

namespace chatd::http {

namespace {

constexpr Route kRoutes[] = {
    {"GET", "/healthz", Access::kPublic, get_health},
    // Loopback only: nginx/chatd.conf passes them on from 127.0.0.1 and ::1 alone.
    {"GET", "/metrics", Access::kPublic, get_metrics},
    {"GET", "/status", Access::kPublic, get_status},
    {"GET", "/api/v2/chats", Access::kUserInRead, list_chats},
    {"POST", "/api/v2/chats", Access::kUser, create_chat},
    {"GET", "/api/v2/chats/watch", Access::kUser, watch_chats},
    {"GET", "/api/v2/chats/cost/users", Access::kUser, cost_users},
    {"GET", "/api/v2/chats/cost/{user}/summary", Access::kUser, cost_summary},
    {"POST", "/api/v2/chats/files", Access::kUser, upload_file},
    {"GET", "/api/v2/chats/files/{file}", Access::kUser, get_file},
    {"GET", "/api/v2/chats/{chat}", Access::kUserInRead, get_chat},
    {"PATCH", "/api/v2/chats/{chat}", Access::kUserInRead, update_chat},
    {"DELETE", "/api/v2/chats/{chat}", Access::kUserInRead, delete_chat},
    {"GET", "/api/v2/chats/{chat}/messages", Access::kUserInRead, list_chat_messages},
    {"POST", "/api/v2/chats/{chat}/messages", Access::kUserInRead, post_chat_message},
    {"PATCH", "/api/v2/chats/{chat}/messages/{message}", Access::kUserInRead, edit_chat_message},
    {"POST", "/api/v2/chats/{chat}/interrupt", Access::kUserInRead, interrupt_chat},
    {"GET", "/api/v2/chats/{chat}/stream", Access::kUserInRead, stream_chat},
    {"GET", "/api/v2/deployment/llms", Access::kUser, list_models},
};

// Splits "/a/b" into {"a", "b"}; "/a/" gives {"a", ""} so a trailing slash never matches.
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool match_pattern(std::string_view pattern, const std::vector<std::string_view>& path,
                   std::map<std::string, std::string, std::less<>>& params) {
  auto parts = segments(pattern);
  if (parts.size() != path.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].size() > 2 && parts[i].front() == '{' && parts[i].back() == '}') {
      if (path[i].empty()) return false;
      params.emplace(parts[i].substr(1, parts[i].size() - 2), base::percent_decode(path[i]));
    } else if (parts[i] != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::span<const Route> routes() { return kRoutes; }

RouteMatch match_route(std::span<const Route> table, std::string_view method,
                       std::string_view path) {
  RouteMatch result;
  auto path_segments = segments(path);
  // A path that a pattern names literally is that pattern's ("/api/v2/chats/watch" is not a
  // chat): only the patterns with the fewest parameters among those that match count.
  size_t fewest = SIZE_MAX;
  for (const auto& route : table) {
    std::map<std::string, std::string, std::less<>> params;
    if (match_pattern(route.pattern, path_segments, params))
      fewest = std::min(fewest, params.size());
  }
  for (const auto& route : table) {
    std::map<std::string, std::string, std::less<>> params;
    if (!match_pattern(route.pattern, path_segments, params) || params.size() != fewest) continue;
    if (route.method == method) {
      result.route = &route;
      result.params = std::move(params);
      result.allow.clear();
      return result;
    }
    if (result.allow.find(route.method) == std::string::npos) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += route.method;
    }
  }
  return result;
}

Outcome handle_request(Context& context, Request& request, ResponseWriter& out) {
  Outcome outcome;
  Observer& observer = context.observer ? *context.observer : no_observer();
  try {
    auto match = match_route(routes(), request.method, request.path);
    if (!match.route) {
      throw match.allow.empty() ? route_not_found() : method_not_allowed(match.allow);
    }
    outcome.route = match.route->pattern;
    observer.on_route(match.route->method, match.route->pattern);
    request.path_params = std::move(match.params);
    if (auto chat = request.path_params.find("chat"); chat != request.path_params.end())
      if (auto id = base::parse_uuid(chat->second)) observer.on_chat(*id);
    if (match.route->access != Access::kPublic) {
      request.credentials = read_credentials(request);
      if (match.route->access == Access::kUser) authenticate(context, request);
    }
    match.route->handler(context, request, out);
    if (match.route->access != Access::kPublic && !request.identity)
      throw std::logic_error("the handler of a kUserInRead route admitted nobody");
  } catch (const ApiError& e) {
    if (!out.started()) write_error(out, e);
  } catch (const sql::ReferenceGone&) {  // the chat was deleted while the request used it
    if (!out.started()) write_error(out, resource_not_found());
  } catch (const sql::DatabaseUnavailable& e) {
    outcome.error = e.what();
    if (!out.started()) write_error(out, database_unavailable());
  } catch (const std::exception& e) {
    outcome.error = sql::error_text(e);  // never the data a statement refused
    if (!out.started()) write_error(out, internal_error());
  }
  if (request.identity) outcome.user_id = request.identity->user_id;
  return outcome;
}

}  // namespace chatd::http
