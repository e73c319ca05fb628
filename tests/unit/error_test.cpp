// The error type and its JSON (Coder's codersdk.Response), byte for byte.
#include "handlers/error.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/fake_response_writer.hpp"

namespace chatd::http {
namespace {

using chatd::testing::FakeResponseWriter;
using Header = std::pair<std::string, std::string>;

std::string body_of(const ApiError& error) { return escape_html_in_json(error_body(error).dump()); }

TEST(ErrorBody, MessageOnly) {
  EXPECT_EQ(body_of(ApiError(400, "Invalid chat ID.")), R"({"message":"Invalid chat ID."})");
}

TEST(ErrorBody, MessageAndDetail) {
  EXPECT_EQ(body_of(ApiError(400, "Failed to decode chat message", "missing \"model\"")),
            R"({"message":"Failed to decode chat message","detail":"missing \"model\""})");
}

TEST(ErrorBody, KeyOrderIsMessageDetailValidations) {
  ApiError error(400, "Validation failed.", "see validations",
                 {{"model", "must not be empty"}, {"message.role", "must be user"}});
  EXPECT_EQ(body_of(error),
            R"({"message":"Validation failed.","detail":"see validations","validations":[)"
            R"({"field":"model","detail":"must not be empty"},)"
            R"({"field":"message.role","detail":"must be user"}]})");
}

TEST(ErrorBody, ValidationsWithoutDetail) {
  ApiError error(400, "Bad.", {}, {{"f", "d"}});
  EXPECT_EQ(body_of(error), R"({"message":"Bad.","validations":[{"field":"f","detail":"d"}]})");
}

TEST(ErrorBody, EmptyMessageIsStillPresent) {
  EXPECT_EQ(body_of(ApiError(500, "")), R"({"message":""})");
}

TEST(EscapeHtmlInJson, EscapesAngleBracketsAndAmpersand) {
  EXPECT_EQ(escape_html_in_json(R"({"a":"<b>&c"})"), R"({"a":"\u003cb\u003e\u0026c"})");
  EXPECT_EQ(escape_html_in_json("plain"), "plain");
  EXPECT_EQ(escape_html_in_json(""), "");
  EXPECT_EQ(escape_html_in_json("&&"), "\\u0026\\u0026");
}

TEST(WriteError, ExactResponseWithEscapingAndControlCharacters) {
  FakeResponseWriter out;
  ASSERT_TRUE(write_error(out, ApiError(400, "Bad <input> & more", "tab\there\n\"q\" \\")));
  EXPECT_EQ(out.status(), 400);
  EXPECT_EQ(out.head_status, 400);
  EXPECT_EQ(out.body,
            R"({"message":"Bad \u003cinput\u003e \u0026 more","detail":"tab\there\n\"q\" \\"})");
  ASSERT_EQ(out.headers.size(), 2u);
  EXPECT_EQ(out.headers[0], (Header{"Content-Type", "application/json; charset=utf-8"}));
  EXPECT_EQ(out.headers[1], (Header{"Content-Length", std::to_string(out.body.size())}));
}

TEST(WriteError, NonAsciiIsKeptAndInvalidUtf8IsReplaced) {
  FakeResponseWriter out;
  ASSERT_TRUE(write_error(out, ApiError(400, "caf\xc3\xa9", "bad \xff byte")));
  EXPECT_EQ(out.body, "{\"message\":\"caf\xc3\xa9\",\"detail\":\"bad \xef\xbf\xbd byte\"}");
}

TEST(WriteError, ExtraHeadersComeFirstAndVerbatim) {
  FakeResponseWriter out;
  ApiError error(401, "Signed out.", {}, {},
                 {{"WWW-Authenticate", "Bearer realm=\"chatd\""}, {"Retry-After", "1"}});
  ASSERT_TRUE(write_error(out, error));
  EXPECT_EQ(out.status(), 401);
  ASSERT_EQ(out.headers.size(), 4u);
  EXPECT_EQ(out.headers[0], (Header{"WWW-Authenticate", "Bearer realm=\"chatd\""}));
  EXPECT_EQ(out.headers[1], (Header{"Retry-After", "1"}));
  EXPECT_EQ(out.headers[2].first, "Content-Type");
  EXPECT_EQ(out.headers[3].first, "Content-Length");
  EXPECT_EQ(out.body, R"({"message":"Signed out."})");
}

TEST(WriteError, GoneClientIsFalse) {
  FakeResponseWriter out;
  out.gone = true;
  EXPECT_FALSE(write_error(out, route_not_found()));
  EXPECT_EQ(out.body, "");
}

TEST(ApiError, WhatIsTheMessage) {
  ApiError error(404, "Route not found.", "detail");
  EXPECT_STREQ(error.what(), "Route not found.");
}

TEST(StandardErrors, ContractTexts) {
  struct Case {
    ApiError error;
    int status;
    const char* body;
  };
  const Case cases[] = {
      {route_not_found(), 404, R"({"message":"Route not found."})"},
      {method_not_allowed("GET, POST"), 405, R"({"message":"Method not allowed."})"},
      {body_too_large(), 413, R"({"message":"Request body too large."})"},
      {resource_not_found(), 404,
       R"({"message":"Resource not found or you do not have access to this resource"})"},
      {database_unavailable(), 503,
       R"({"message":"The database is unavailable. Please try again later."})"},
      {internal_error(), 500,
       R"({"message":"An internal error occurred. Please try again or contact the system )"
       R"(administrator."})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    FakeResponseWriter out;
    ASSERT_TRUE(write_error(out, c.error));
    EXPECT_EQ(out.status(), c.status);
    EXPECT_EQ(out.body, c.body);
  }
}

TEST(StandardErrors, MethodNotAllowedCarriesAllow) {
  FakeResponseWriter out;
  write_error(out, method_not_allowed("GET, POST"));
  ASSERT_NE(out.header("Allow"), nullptr);
  EXPECT_EQ(*out.header("Allow"), "GET, POST");
}

TEST(StandardErrors, DatabaseUnavailableCarriesRetryAfter) {
  FakeResponseWriter out;
  write_error(out, database_unavailable());
  ASSERT_NE(out.header("Retry-After"), nullptr);
  EXPECT_EQ(*out.header("Retry-After"), "1");
}

TEST(StandardErrors, OthersCarryNoExtraHeaders) {
  EXPECT_TRUE(route_not_found().headers.empty());
  EXPECT_TRUE(body_too_large().headers.empty());
  EXPECT_TRUE(resource_not_found().headers.empty());
  EXPECT_TRUE(internal_error().headers.empty());
  EXPECT_TRUE(internal_error().detail.empty());
}

}  // namespace
}  // namespace chatd::http
