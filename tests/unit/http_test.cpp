// The handler-side request and response helpers: cookies, query parameters,
// reason phrases, and respond()/respond_json().
#include "handlers/http.hpp"

#include <gtest/gtest.h>

#include <string>

#include "base/http_status.hpp"
#include "base/text.hpp"
#include "tests/unit/fake_response_writer.hpp"

namespace chatd::http {
namespace {

using chatd::testing::FakeResponseWriter;
using Header = std::pair<std::string, std::string>;

Request with_cookie(std::string cookie) {
  Request request;
  request.headers["cookie"] = std::move(cookie);
  return request;
}

Request with_query(std::string query) {
  Request request;
  request.query = std::move(query);
  return request;
}

TEST(Cookie, FindsTheNamedCookie) {
  auto request = with_cookie("a=1; coder_session_token=abc; b=2");
  EXPECT_EQ(request.cookie("coder_session_token"), "abc");
  EXPECT_EQ(request.cookie("a"), "1");
  EXPECT_EQ(request.cookie("b"), "2");
  EXPECT_EQ(request.cookie("c"), std::nullopt);
}

TEST(Cookie, WhitespaceAndQuotes) {
  auto request = with_cookie("  a = 1 ;\tb=\"quoted value\";c=\"\";d=\"unbalanced");
  EXPECT_EQ(request.cookie("a"), "1");
  EXPECT_EQ(request.cookie("b"), "quoted value");
  EXPECT_EQ(request.cookie("c"), "");
  EXPECT_EQ(request.cookie("d"), "\"unbalanced");
}

TEST(Cookie, NameMustMatchExactly) {
  auto request = with_cookie("xtoken=1; tokenx=2; Token=3");
  EXPECT_EQ(request.cookie("token"), std::nullopt);
  EXPECT_EQ(request.cookie("Token"), "3");
}

TEST(Cookie, FirstOccurrenceWinsAndEmptyValueIsAValue) {
  EXPECT_EQ(with_cookie("t=first; t=second").cookie("t"), "first");
  EXPECT_EQ(with_cookie("t=; u=1").cookie("t"), "");
}

TEST(Cookie, ValueMayContainEquals) { EXPECT_EQ(with_cookie("t=a=b==").cookie("t"), "a=b=="); }

TEST(Cookie, PairsWithoutEqualsAreSkipped) {
  auto request = with_cookie("flag; ; t=1;");
  EXPECT_EQ(request.cookie("flag"), std::nullopt);
  EXPECT_EQ(request.cookie("t"), "1");
}

TEST(Cookie, NoCookieHeader) {
  Request request;
  EXPECT_EQ(request.cookie("t"), std::nullopt);
  EXPECT_EQ(with_cookie("").cookie("t"), std::nullopt);
}

TEST(QueryParam, FindsAndDecodes) {
  auto request = with_query("a=1&b=hello%20world&c=x+y&d=%2B%26%3D");
  EXPECT_EQ(request.query_param("a"), "1");
  EXPECT_EQ(request.query_param("b"), "hello world");
  EXPECT_EQ(request.query_param("c"), "x y");
  EXPECT_EQ(request.query_param("d"), "+&=");
  EXPECT_EQ(request.query_param("e"), std::nullopt);
}

TEST(QueryParam, MissingValueIsEmpty) {
  auto request = with_query("flag&empty=&x=1");
  EXPECT_EQ(request.query_param("flag"), "");
  EXPECT_EQ(request.query_param("empty"), "");
  EXPECT_EQ(request.query_param("x"), "1");
}

TEST(QueryParam, NamesAreDecodedAndMatchExactly) {
  auto request = with_query("coder%5Fsession%5Ftoken=t&my+key=v&ab=1");
  EXPECT_EQ(request.query_param("coder_session_token"), "t");
  EXPECT_EQ(request.query_param("my key"), "v");
  EXPECT_EQ(request.query_param("a"), std::nullopt);
  EXPECT_EQ(request.query_param("abc"), std::nullopt);
}

TEST(QueryParam, FirstValueWins) { EXPECT_EQ(with_query("a=1&a=2").query_param("a"), "1"); }

TEST(QueryParam, EmptyPiecesAndEmptyQuery) {
  EXPECT_EQ(with_query("&&a=1&&").query_param("a"), "1");
  EXPECT_EQ(with_query("").query_param("a"), std::nullopt);
  EXPECT_EQ(with_query("a=b=c").query_param("a"), "b=c");
  EXPECT_EQ(with_query("=v").query_param(""), "v");
}

TEST(Request, HeaderAndPathParam) {
  Request request;
  request.headers["content-type"] = "application/json";
  request.path_params["chat"] = "abc";
  ASSERT_NE(request.header("content-type"), nullptr);
  EXPECT_EQ(*request.header("content-type"), "application/json");
  EXPECT_EQ(request.header("Content-Type"), nullptr);
  EXPECT_EQ(request.header("accept"), nullptr);
  EXPECT_EQ(request.path_param("chat"), "abc");
  EXPECT_EQ(request.path_param("other"), "");
}

TEST(HttpStatusText, KnownAndUnknown) {
  EXPECT_EQ(base::http_status_text(200), "OK");
  EXPECT_EQ(base::http_status_text(201), "Created");
  EXPECT_EQ(base::http_status_text(204), "No Content");
  EXPECT_EQ(base::http_status_text(400), "Bad Request");
  EXPECT_EQ(base::http_status_text(401), "Unauthorized");
  EXPECT_EQ(base::http_status_text(403), "Forbidden");
  EXPECT_EQ(base::http_status_text(404), "Not Found");
  EXPECT_EQ(base::http_status_text(405), "Method Not Allowed");
  EXPECT_EQ(base::http_status_text(409), "Conflict");
  EXPECT_EQ(base::http_status_text(413), "Content Too Large");
  EXPECT_EQ(base::http_status_text(415), "Unsupported Media Type");
  EXPECT_EQ(base::http_status_text(422), "Unprocessable Content");
  EXPECT_EQ(base::http_status_text(429), "Too Many Requests");
  EXPECT_EQ(base::http_status_text(500), "Internal Server Error");
  EXPECT_EQ(base::http_status_text(502), "Bad Gateway");
  EXPECT_EQ(base::http_status_text(503), "Service Unavailable");
  EXPECT_EQ(base::http_status_text(0), "");
  EXPECT_EQ(base::http_status_text(299), "");
  EXPECT_EQ(base::http_status_text(999), "");
}

TEST(Respond, StatusHeadersAndBody) {
  FakeResponseWriter out;
  EXPECT_FALSE(out.started());
  ASSERT_TRUE(respond(out, 200, "text/plain", "OK", {{"Cache-Control", "no-cache"}}));
  EXPECT_TRUE(out.started());
  EXPECT_EQ(out.status(), 200);
  EXPECT_EQ(out.heads, 1);
  ASSERT_EQ(out.headers.size(), 3u);
  EXPECT_EQ(out.headers[0], (Header{"Cache-Control", "no-cache"}));
  EXPECT_EQ(out.headers[1], (Header{"Content-Type", "text/plain"}));
  EXPECT_EQ(out.headers[2], (Header{"Content-Length", "2"}));
  EXPECT_EQ(out.body, "OK");
}

TEST(Respond, ContentLengthCountsBytes) {
  FakeResponseWriter out;
  std::string body = "caf\xc3\xa9\n";
  respond(out, 201, "text/plain", body);
  EXPECT_EQ(*out.header("Content-Length"), "6");
  EXPECT_EQ(out.body, body);
}

TEST(Respond, GoneClientStopsAfterTheHead) {
  FakeResponseWriter out;
  out.gone = true;
  EXPECT_FALSE(respond(out, 200, "text/plain", "OK"));
  EXPECT_EQ(out.heads, 1);
  EXPECT_EQ(out.writes, 0);
  EXPECT_EQ(out.body, "");
}

TEST(RespondJson, CompactEscapedOrdered) {
  FakeResponseWriter out;
  nlohmann::ordered_json body = {{"z", "<b>"}, {"a", 1}, {"list", nlohmann::ordered_json::array()}};
  ASSERT_TRUE(respond_json(out, 200, body));
  EXPECT_EQ(out.body, R"({"z":"\u003cb\u003e","a":1,"list":[]})");
  EXPECT_EQ(*out.header("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(*out.header("Content-Length"), std::to_string(out.body.size()));
}

}  // namespace
}  // namespace chatd::http
