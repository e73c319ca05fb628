// The route table and the router: every route reachable, nothing else matching, 404/405 bodies.
#include "handlers/routes.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "handlers/context.hpp"
#include "handlers/replies.hpp"
#include "sql/pool.hpp"
#include "sql/store.hpp"
#include "tests/unit/fake_response_writer.hpp"

namespace chatd::http {
namespace {

// A concrete path for a pattern: {name} becomes "v-<name>", percent-encoded in part so that
// the test also sees the router decode parameters.
struct Concrete {
  std::string path;
  std::map<std::string, std::string, std::less<>> params;
};

Concrete concrete_path(std::string_view pattern) {
  Concrete out;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      size_t close = pattern.find('}', i);
      std::string name(pattern.substr(i + 1, close - i - 1));
      out.path += "v%2D" + name;  // %2D is '-'
      out.params[name] = "v-" + name;
      i = close + 1;
    } else {
      out.path += pattern[i++];
    }
  }
  return out;
}

// The methods the table accepts for one pattern, in table order, as an Allow header.
std::string allow_for(std::string_view pattern) {
  std::string allow;
  for (const auto& route : routes()) {
    if (route.pattern != pattern) continue;
    if (!allow.empty()) allow += ", ";
    allow += route.method;
  }
  return allow;
}

TEST(RouteTable, IsNotEmptyAndEveryEntryIsComplete) {
  ASSERT_FALSE(routes().empty());
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const auto& route : routes()) {
    SCOPED_TRACE(std::string(route.method) + " " + std::string(route.pattern));
    EXPECT_NE(route.handler, nullptr);
    EXPECT_TRUE(route.pattern.starts_with("/"));
    EXPECT_FALSE(route.pattern.ends_with("/"));
    EXPECT_TRUE(seen.insert({route.method, route.pattern}).second) << "duplicate route";
  }
}

TEST(RouteTable, ContainsTheContractsEndpoints) {
  std::set<std::string> table;
  for (const auto& route : routes())
    table.insert(std::string(route.method) + " " + std::string(route.pattern));
  for (const char* expected : {"GET /healthz", "GET /api/v2/chats", "POST /api/v2/chats",
                               "GET /api/v2/chats/{chat}", "GET /api/v2/chats/{chat}/messages"})
    EXPECT_TRUE(table.count(expected)) << expected;
}

// /metrics and /status are public to chatd; nginx/chatd.conf lets only loopback reach them.
TEST(RouteTable, OnlyHealthzMetricsAndStatusArePublic) {
  for (const auto& route : routes()) {
    SCOPED_TRACE(std::string(route.method) + " " + std::string(route.pattern));
    EXPECT_EQ(route.access == Access::kPublic, route.pattern == "/healthz" ||
                                                   route.pattern == "/metrics" ||
                                                   route.pattern == "/status");
  }
}

TEST(MatchRoute, EveryRouteMatchesAConcretePathWithItsParams) {
  for (const auto& route : routes()) {
    auto concrete = concrete_path(route.pattern);
    SCOPED_TRACE(std::string(route.method) + " " + concrete.path);
    auto match = match_route(routes(), route.method, concrete.path);
    ASSERT_EQ(match.route, &route);
    EXPECT_EQ(match.params, concrete.params);
    EXPECT_EQ(match.allow, "");
  }
}

TEST(MatchRoute, EveryRouteWithAWrongMethodListsTheAllowedMethods) {
  for (const auto& route : routes()) {
    auto concrete = concrete_path(route.pattern);
    for (const char* method : {"DELETE", "PUT", "PATCH", "OPTIONS", "HEAD", "get"}) {
      if (allow_for(route.pattern).find(method) != std::string::npos) continue;
      SCOPED_TRACE(std::string(method) + " " + concrete.path);
      auto match = match_route(routes(), method, concrete.path);
      EXPECT_EQ(match.route, nullptr);
      EXPECT_EQ(match.allow, allow_for(route.pattern));
      EXPECT_TRUE(match.params.empty());
    }
  }
}

TEST(MatchRoute, AllowHeadersOfTheKnownPaths) {
  EXPECT_EQ(match_route(routes(), "DELETE", "/api/v2/chats").allow, "GET, POST");
  EXPECT_EQ(match_route(routes(), "POST", "/healthz").allow, "GET");
  EXPECT_EQ(match_route(routes(), "PUT", "/api/v2/chats/abc").allow, "GET, PATCH, DELETE");
  EXPECT_EQ(match_route(routes(), "PUT", "/api/v2/chats/abc/messages").allow, "GET, POST");
  EXPECT_EQ(match_route(routes(), "POST", "/api/v2/deployment/llms").allow, "GET");
  // A literal segment wins over a parameter: "watch" is not a chat.
  EXPECT_EQ(match_route(routes(), "DELETE", "/api/v2/chats/watch").allow, "GET");
  EXPECT_EQ(match_route(routes(), "GET", "/api/v2/chats/watch").route->pattern,
            "/api/v2/chats/watch");
  EXPECT_EQ(match_route(routes(), "GET", "/api/v2/chats/watcher").route->pattern,
            "/api/v2/chats/{chat}");
}

TEST(MatchRoute, GetAndPostOnChatsReachDifferentRoutes) {
  auto get = match_route(routes(), "GET", "/api/v2/chats");
  auto post = match_route(routes(), "POST", "/api/v2/chats");
  ASSERT_NE(get.route, nullptr);
  ASSERT_NE(post.route, nullptr);
  EXPECT_NE(get.route, post.route);
  EXPECT_EQ(get.route->method, "GET");
  EXPECT_EQ(post.route->method, "POST");
}

TEST(MatchRoute, ChatParamIsTakenVerbatim) {
  auto match = match_route(routes(), "GET", "/api/v2/chats/0b7e1d3c-aaaa-4bbb-8ccc-123456789abc");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/api/v2/chats/{chat}");
  EXPECT_EQ(match.params.at("chat"), "0b7e1d3c-aaaa-4bbb-8ccc-123456789abc");

  match = match_route(routes(), "GET", "/api/v2/chats/not-a-uuid/messages");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/api/v2/chats/{chat}/messages");
  EXPECT_EQ(match.params.at("chat"), "not-a-uuid");
}

TEST(MatchRoute, ParamsArePercentDecodedAfterSplitting) {
  auto match = match_route(routes(), "GET", "/api/v2/chats/a%2Fb%20c%25/messages");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/api/v2/chats/{chat}/messages");
  EXPECT_EQ(match.params.at("chat"), "a/b c%");
}

// '+' is a space only in a query string; in a path it is literal (RFC 3986, Go's
// url.PathUnescape), so "/chats/a+b" has the param "a+b".
TEST(MatchRoute, PlusInAPathParamIsLiteral) {
  auto match = match_route(routes(), "GET", "/api/v2/chats/a+b");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.params.at("chat"), "a+b");
}

TEST(MatchRoute, NearMissesMatchNothingAndAllowNothing) {
  for (const char* path : {
           "",
           "/",
           "api/v2/chats",
           "/api",
           "/api/v2",
           "/api/v2/",
           "/api/v2/chats/",
           "/api/v2/chats//",
           "//api/v2/chats",
           "/api//v2/chats",
           "/api/v2//chats",
           "/api/v2/chats//messages",
           "/api/v2/chats/abc/",
           "/api/v2/chats/abc//",
           "/api/v2/chats/abc/messages/",
           "/api/v2/chats/abc/messages/x/y",
           "/api/v2/chats/abc/message",
           "/api/v2/chatsx",
           "/api/v2/chat",
           "/api/v2/Chats",
           "/API/v2/chats",
           "/api/v1/chats",
           "/x/api/v2/chats",
           "/api/v2/chats/abc/def",
           "/healthz/",
           "/healthzz",
           "/health",
           "/healthz/x",
           "/api/v2/unknown",
           "/api/v2/deployment/llm",
       }) {
    for (const char* method : {"GET", "POST", "DELETE"}) {
      SCOPED_TRACE(std::string(method) + " '" + path + "'");
      auto match = match_route(routes(), method, path);
      EXPECT_EQ(match.route, nullptr);
      EXPECT_EQ(match.allow, "");
      EXPECT_TRUE(match.params.empty());
    }
  }
}

TEST(MatchRoute, EncodedSlashInAParamDoesNotMakeANewSegment) {
  // "%2F" is data, not a separator: the chat route matches with the param "a/messages".
  auto match = match_route(routes(), "GET", "/api/v2/chats/a%2Fmessages");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/api/v2/chats/{chat}");
  EXPECT_EQ(match.params.at("chat"), "a/messages");
}

TEST(MatchRoute, CustomTableListsEachMethodOnceInTableOrder) {
  static const Route table[] = {
      {"PUT", "/things/{id}", Access::kUser, nullptr},
      {"GET", "/things/{id}", Access::kUser, nullptr},
      {"GET", "/things/{name}", Access::kUser, nullptr},
      {"DELETE", "/things/{id}", Access::kUser, nullptr},
      {"GET", "/other/{id}", Access::kUser, nullptr},
  };
  auto miss = match_route(table, "POST", "/things/7");
  EXPECT_EQ(miss.route, nullptr);
  EXPECT_EQ(miss.allow, "PUT, GET, DELETE");
  EXPECT_TRUE(miss.params.empty());

  auto hit = match_route(table, "DELETE", "/things/7");
  ASSERT_EQ(hit.route, &table[3]);
  EXPECT_EQ(hit.allow, "");
  ASSERT_EQ(hit.params.size(), 1u);
  EXPECT_EQ(hit.params.at("id"), "7");

  // The first matching route wins; its params only.
  auto first = match_route(table, "GET", "/things/7");
  ASSERT_EQ(first.route, &table[1]);
  EXPECT_EQ(first.params.size(), 1u);
  EXPECT_EQ(first.params.count("name"), 0u);
}

TEST(MatchRoute, TwoParams) {
  static const Route table[] = {
      {"GET", "/a/{x}/b/{y}", Access::kPublic, nullptr},
  };
  auto match = match_route(table, "GET", "/a/1%2B1/b/%7Bz%7D");
  ASSERT_EQ(match.route, &table[0]);
  EXPECT_EQ(match.params.at("x"), "1+1");
  EXPECT_EQ(match.params.at("y"), "{z}");
  EXPECT_EQ(match_route(table, "GET", "/a/1/b/").route, nullptr);
  EXPECT_EQ(match_route(table, "GET", "/a//b/2").route, nullptr);
}

// handle_request without a database: routing and the token checks that come before any query.
// The pool connects lazily; its URL points at a directory that does not exist, so a test that
// reached the database by mistake would get a 503, not a connection.
class HandleRequest : public ::testing::Test {
 protected:
  sql::Pool pool_{"postgresql:///chatd_unit?host=/nonexistent/chatd-unit-tests", 1,
                  std::chrono::milliseconds(10)};
  sql::Store store_{pool_};
  llm::ModelCatalog models_;
  llm::Transport transport_{{}};
  ReplySettings reply_;
  ReplyRegistry replies_;
  sql::ListenConnection listen_{"postgresql:///chatd_unit?host=/nonexistent/chatd-unit-tests",
                                nullptr};
  Context context_{store_, models_, transport_, reply_, {}, nullptr, replies_, listen_, "test:1"};
  chatd::testing::FakeResponseWriter out_;

  Outcome run(std::string method, std::string path, std::string query = {}) {
    Request request;
    request.method = std::move(method);
    request.path = std::move(path);
    request.query = std::move(query);
    return handle_request(context_, request, out_);
  }
};

TEST_F(HandleRequest, UnknownPathIs404RouteNotFound) {
  auto outcome = run("GET", "/api/v2/chats/");
  EXPECT_EQ(outcome.route, "");
  EXPECT_EQ(outcome.user_id, "");
  EXPECT_EQ(out_.status(), 404);
  EXPECT_EQ(out_.heads, 1);
  EXPECT_EQ(out_.body, R"({"message":"Route not found."})");
  ASSERT_EQ(out_.headers.size(), 2u);
  EXPECT_EQ(out_.headers[0], (std::pair<std::string, std::string>{
                                 "Content-Type", "application/json; charset=utf-8"}));
  EXPECT_EQ(out_.headers[1], (std::pair<std::string, std::string>{
                                 "Content-Length", std::to_string(out_.body.size())}));
}

TEST_F(HandleRequest, WrongMethodIs405WithAllow) {
  auto outcome = run("DELETE", "/api/v2/chats");
  EXPECT_EQ(outcome.route, "");
  EXPECT_EQ(out_.status(), 405);
  EXPECT_EQ(out_.body, R"({"message":"Method not allowed."})");
  ASSERT_EQ(out_.headers.size(), 3u);
  EXPECT_EQ(out_.headers[0], (std::pair<std::string, std::string>{"Allow", "GET, POST"}));
  EXPECT_EQ(out_.headers[1].first, "Content-Type");
  EXPECT_EQ(out_.headers[2], (std::pair<std::string, std::string>{"Content-Length", "33"}));
}

TEST_F(HandleRequest, NoTokenIs401BeforeAnyQuery) {
  auto outcome = run("GET", "/api/v2/chats");
  EXPECT_EQ(outcome.route, "/api/v2/chats");
  EXPECT_EQ(outcome.user_id, "");
  EXPECT_EQ(outcome.error, "");
  EXPECT_EQ(out_.status(), 401);
  EXPECT_EQ(out_.body,
            R"({"message":"You are signed out or your session has expired. Please sign in again )"
            R"(to continue.","detail":"Cookie \"coder_session_token\" or query parameter must )"
            R"(be provided."})");
  ASSERT_NE(out_.header("WWW-Authenticate"), nullptr);
  EXPECT_EQ(*out_.header("WWW-Authenticate"), "Bearer realm=\"chatd\"");
}

TEST_F(HandleRequest, MalformedTokenIs401WithTheReason) {
  run("GET", "/api/v2/chats/abc/messages", "coder_session_token=abc");
  EXPECT_EQ(out_.status(), 401);
  EXPECT_EQ(out_.body,
            R"({"message":"You are signed out or your session has expired. Please sign in again )"
            R"(to continue.","detail":"Invalid API key format: incorrect amount of API key )"
            R"(parts, expected 2 got 1"})");
  ASSERT_NE(out_.header("WWW-Authenticate"), nullptr);
}

TEST_F(HandleRequest, ResponseAlreadyStartedIsNotWrittenTwice) {
  out_.start(200, {});
  run("GET", "/nope");
  EXPECT_EQ(out_.heads, 1);
  EXPECT_EQ(out_.status(), 200);
  EXPECT_EQ(out_.body, "");
}

}  // namespace
}  // namespace chatd::http
