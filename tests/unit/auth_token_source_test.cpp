// Where the API token is looked for (API.md §2): cookie, query, Coder-Session-Token header,
// Authorization: Bearer — first non-empty one wins.
#include <gtest/gtest.h>

#include <string>

#include "handlers/auth.hpp"

namespace chatd::http {
namespace {

struct Sources {
  const char* cookie = nullptr;  // whole Cookie header
  const char* query = nullptr;   // raw query string
  const char* session_header = nullptr;
  const char* authorization = nullptr;
};

Request request_with(const Sources& s) {
  Request request;
  request.method = "GET";
  request.path = "/api/v2/chats";
  if (s.cookie) request.headers["cookie"] = s.cookie;
  if (s.query) request.query = s.query;
  if (s.session_header) request.headers["coder-session-token"] = s.session_header;
  if (s.authorization) request.headers["authorization"] = s.authorization;
  return request;
}

std::string token_of(const Sources& s) { return find_token(request_with(s)); }

TEST(FindToken, NoneAnywhereIsEmpty) {
  EXPECT_EQ(token_of({}), "");
  EXPECT_EQ(token_of({.cookie = "other=1", .query = "a=b"}), "");
}

TEST(FindToken, EachSourceAlone) {
  EXPECT_EQ(token_of({.cookie = "coder_session_token=from-cookie"}), "from-cookie");
  EXPECT_EQ(token_of({.query = "coder_session_token=from-query"}), "from-query");
  EXPECT_EQ(token_of({.session_header = "from-header"}), "from-header");
  EXPECT_EQ(token_of({.authorization = "Bearer from-bearer"}), "from-bearer");
}

TEST(FindToken, CookieWinsOverEverything) {
  EXPECT_EQ(token_of({.cookie = "coder_session_token=c",
                      .query = "coder_session_token=q",
                      .session_header = "h",
                      .authorization = "Bearer b"}),
            "c");
}

TEST(FindToken, QueryWinsOverHeaders) {
  EXPECT_EQ(
      token_of(
          {.query = "coder_session_token=q", .session_header = "h", .authorization = "Bearer b"}),
      "q");
}

TEST(FindToken, SessionHeaderWinsOverAuthorization) {
  EXPECT_EQ(token_of({.session_header = "h", .authorization = "Bearer b"}), "h");
}

TEST(FindToken, EmptyValuesAreSkipped) {
  EXPECT_EQ(token_of({.cookie = "coder_session_token=",
                      .query = "coder_session_token=",
                      .session_header = "",
                      .authorization = "Bearer b"}),
            "b");
  EXPECT_EQ(token_of({.cookie = "coder_session_token=\"\"",
                      .query = "coder_session_token",
                      .session_header = "h"}),
            "h");
  EXPECT_EQ(token_of({.cookie = "coder_session_token=", .query = "coder_session_token=q"}), "q");
  EXPECT_EQ(token_of({.cookie = "coder_session_token=",
                      .query = "coder_session_token=",
                      .session_header = "",
                      .authorization = "Bearer "}),
            "");
}

TEST(FindToken, CookieAmongOthers) {
  EXPECT_EQ(token_of({.cookie = "a=1; coder_session_token=tok; b=2"}), "tok");
  EXPECT_EQ(token_of({.cookie = "xcoder_session_token=no; coder_session_tokenx=no"}), "");
}

TEST(FindToken, QueryAmongOthersAndPercentDecoded) {
  EXPECT_EQ(token_of({.query = "a=1&coder_session_token=AbC%2D1&b=2"}), "AbC-1");
}

TEST(FindToken, BearerSchemeIsCaseInsensitive) {
  EXPECT_EQ(token_of({.authorization = "bearer t1"}), "t1");
  EXPECT_EQ(token_of({.authorization = "BEARER t2"}), "t2");
  EXPECT_EQ(token_of({.authorization = "BeArEr t3"}), "t3");
}

TEST(FindToken, AuthorizationWithOtherSchemesIsIgnored) {
  EXPECT_EQ(token_of({.authorization = "Basic dXNlcjpwYXNz"}), "");
  EXPECT_EQ(token_of({.authorization = "Bearer"}), "");
  EXPECT_EQ(token_of({.authorization = "Bearer "}), "");
  EXPECT_EQ(token_of({.authorization = "Bearertoken"}), "");
  EXPECT_EQ(token_of({.authorization = "tok"}), "");
  EXPECT_EQ(token_of({.authorization = ""}), "");
}

TEST(FindToken, HeaderNamesAreTheNormalizedOnes) {
  // worker/ stores headers lower-case with dashes; other spellings are not looked up.
  Request request;
  request.headers["Coder-Session-Token"] = "x";
  request.headers["coder_session_token"] = "y";
  request.headers["Authorization"] = "Bearer z";
  EXPECT_EQ(find_token(request), "");
}

}  // namespace
}  // namespace chatd::http
