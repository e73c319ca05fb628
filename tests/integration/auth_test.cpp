// API.md §2: the four token sources, every 401, expiry, suspension, last_used.
#include "fixture.hpp"

namespace chatd::test {
namespace {

class Auth : public StackTest {
 protected:
  void expect_signed_out(const HttpResponse& r, const std::string& detail) {
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
    EXPECT_EQ(r.header("www-authenticate"), "Bearer realm=\"chatd\"");
    nlohmann::ordered_json expected = {{"message", kSignedOut}, {"detail", detail}};
    EXPECT_EQ(r.body, expected.dump());
  }
};

TEST_F(Auth, NoTokenAnywhere) {
  auto r = call("GET", "/api/v2/chats");
  EXPECT_EQ(
      r.body,
      R"({"message":"You are signed out or your session has expired. Please sign in again to continue.","detail":"Cookie \"coder_session_token\" or query parameter must be provided."})");
  expect_signed_out(r, "Cookie \"coder_session_token\" or query parameter must be provided.");
}

TEST_F(Auth, MalformedTokens) {
  expect_signed_out(call("GET", "/api/v2/chats", "abc"),
                    "Invalid API key format: incorrect amount of API key parts, expected 2 got 1");
  expect_signed_out(call("GET", "/api/v2/chats", "a-b-c"),
                    "Invalid API key format: incorrect amount of API key parts, expected 2 got 3");
  expect_signed_out(call("GET", "/api/v2/chats", "short-aaaaaaaaaaaaaaaaaaaaaa"),
                    "Invalid API key format: invalid API key ID length, expected 10 got 5");
  expect_signed_out(call("GET", "/api/v2/chats", "aaaaaaaaaa-short"),
                    "Invalid API key format: invalid API key secret length, expected 22 got 5");
  expect_signed_out(
      call("GET", "/api/v2/chats", "aaaaaaaa_a-aaaaaaaaaaaaaaaaaaaaaa"),
      "Invalid API key format: API key must contain only the characters A-Z, a-z and 0-9");
}

TEST_F(Auth, UnknownIdAndWrongSecret) {
  auto token = stack_->new_user_token(unique("auth"));
  expect_signed_out(call("GET", "/api/v2/chats", "zzzzzzzzzz-" + token.substr(11)),
                    "API key is invalid.");
  expect_signed_out(call("GET", "/api/v2/chats", token.substr(0, 11) + std::string(22, 'x')),
                    "API key secret is invalid.");
  EXPECT_EQ(call("GET", "/api/v2/chats", token).status, 200);
}

TEST_F(Auth, ExpiredToken) {
  auto token = stack_->new_user_token(unique("expired"));
  std::string id = token.substr(0, 10);
  auto expires =
      stack_->sql("UPDATE api_keys SET expires_at = '2026-01-02T03:04:05.123456Z' WHERE id = '" +
                  id + "' RETURNING chatd_time(expires_at)");
  ASSERT_EQ(expires.at(0).at(0), "2026-01-02T03:04:05.123456Z");
  expect_signed_out(call("GET", "/api/v2/chats", token),
                    "API key expired at \"2026-01-02T03:04:05.123456Z\".");
}

TEST_F(Auth, SuspendedUserAndReactivation) {
  auto name = unique("suspended");
  auto token = stack_->new_user_token(name);
  ASSERT_EQ(stack_->chatd->cli({"users", "suspend", name}).exit_code, 0);
  auto r = call("GET", "/api/v2/chats", token);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(
      r.body,
      R"({"message":"User is not active (status = \"suspended\"). Contact an admin to reactivate your account."})");
  ASSERT_EQ(stack_->chatd->cli({"users", "activate", name}).exit_code, 0);
  EXPECT_EQ(call("GET", "/api/v2/chats", token).status, 200);
}

TEST_F(Auth, RevokedToken) {
  auto token = stack_->new_user_token(unique("revoked"));
  EXPECT_EQ(call("GET", "/api/v2/chats", token).status, 200);
  ASSERT_EQ(stack_->chatd->cli({"tokens", "revoke", token.substr(0, 10)}).exit_code, 0);
  expect_signed_out(call("GET", "/api/v2/chats", token), "API key is invalid.");
}

TEST_F(Auth, FourSourcesInOrder) {
  auto good = stack_->new_user_token(unique("sources"));
  std::string bad = "aaaaaaaaaa-aaaaaaaaaaaaaaaaaaaaaa";
  auto url = stack_->url("/api/v2/chats");
  // Each source alone works.
  EXPECT_EQ(http("GET", url, {"Cookie: other=1; coder_session_token=" + good}).status, 200);
  EXPECT_EQ(http("GET", url + "?coder_session_token=" + good).status, 200);
  EXPECT_EQ(http("GET", url, {"Coder-Session-Token: " + good}).status, 200);
  EXPECT_EQ(http("GET", url, {"Authorization: Bearer " + good}).status, 200);
  EXPECT_EQ(http("GET", url, {"Authorization: bearer " + good}).status, 200);
  // The first present source wins, even when a later one would be valid.
  EXPECT_EQ(
      http("GET", url + "?coder_session_token=" + good, {"Cookie: coder_session_token=" + bad})
          .status,
      401);
  EXPECT_EQ(
      http("GET", url + "?coder_session_token=" + bad, {"Coder-Session-Token: " + good}).status,
      401);
  EXPECT_EQ(
      http("GET", url, {"Coder-Session-Token: " + bad, "Authorization: Bearer " + good}).status,
      401);
  EXPECT_EQ(http("GET", url + "?coder_session_token=" + good,
                 {"Coder-Session-Token: " + bad, "Authorization: Bearer " + bad})
                .status,
            200);
  // An empty source is skipped.
  EXPECT_EQ(http("GET", url + "?coder_session_token=", {"Coder-Session-Token: " + good}).status,
            200);
  // Another scheme is not a token.
  expect_signed_out(http("GET", url, {"Authorization: Basic " + good}),
                    "Cookie \"coder_session_token\" or query parameter must be provided.");
}

TEST_F(Auth, LastUsedMovesAtMostOncePerMinute) {
  auto token = stack_->new_user_token(unique("lastused"));
  std::string id = token.substr(0, 10);
  stack_->sql("UPDATE api_keys SET last_used = now() - interval '2 minutes' WHERE id = '" + id +
              "'");
  ASSERT_EQ(call("GET", "/api/v2/chats", token).status, 200);
  auto fresh = stack_->sql(
      "SELECT last_used > now() - interval '10 seconds', last_used FROM "
      "api_keys WHERE id = '" +
      id + "'");
  EXPECT_EQ(fresh.at(0).at(0), "t");
  ASSERT_EQ(call("GET", "/api/v2/chats", token).status, 200);
  auto again = stack_->sql("SELECT last_used FROM api_keys WHERE id = '" + id + "'");
  EXPECT_EQ(again.at(0).at(0), fresh.at(0).at(1)) << "a second request within a minute wrote";
}

TEST_F(Auth, SecretsAreStoredHashed) {
  auto token = stack_->new_user_token(unique("hashed"));
  auto rows = stack_->sql("SELECT encode(hashed_secret, 'hex') FROM api_keys WHERE id = '" +
                          token.substr(0, 10) + "'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].size(), 64u);
  EXPECT_EQ(rows[0][0].find(token.substr(11)), std::string::npos);
  auto dump = stack_->sql("SELECT count(*) FROM api_keys WHERE hashed_secret::text LIKE '%" +
                          token.substr(11) + "%' OR name LIKE '%" + token.substr(11) + "%'");
  EXPECT_EQ(dump[0][0], "0");
}

// A token in the query string (API.md §2) must not end up in nginx's access log, whether it is
// good or not, nor in what a Referer would bring.
TEST_F(Auth, QueryTokensNeverReachTheAccessLog) {
  std::string good = stack_->new_user_token(unique("logged"));
  std::string bad = good.substr(0, 11) + std::string(22, 'x');
  std::string url = stack_->url("/api/v2/chats");
  EXPECT_EQ(http("GET", url + "?coder_session_token=" + good).status, 200);
  EXPECT_EQ(http("GET", url + "?coder_session_token=" + bad,
                 {"Referer: " + url + "?coder_session_token=" + good})
                .status,
            401);
  std::string log;
  // nginx writes each line when its request ends, which may be just after the response.
  ASSERT_TRUE(wait_until(
      [&] {
        log = read_file(stack_->nginx->access_log());
        return log.find("\"GET /api/v2/chats HTTP/1.1\" 401") != std::string::npos;
      },
      5s))
      << log;
  EXPECT_NE(log.find("\"GET /api/v2/chats HTTP/1.1\" 200"), std::string::npos) << log;
  EXPECT_EQ(log.find(good.substr(11)), std::string::npos) << log;
  EXPECT_EQ(log.find(bad.substr(11)), std::string::npos) << log;
  EXPECT_EQ(log.find("coder_session_token"), std::string::npos) << log;
}

// CSRF: a browser sends the cookie along with requests other sites start. An unsafe request
// the cookie authenticates must say it comes from this site (or say nothing: no browser).
TEST_F(Auth, CookieAuthenticatedWritesMustComeFromThisSite) {
  auto token = stack_->new_user_token(unique("csrf"));
  std::string url = stack_->url("/api/v2/chats");
  std::string cookie = "Cookie: coder_session_token=" + token;
  std::string here = stack_->url("");  // http://127.0.0.1:PORT, this site's origin
  auto post = [&](std::vector<std::string> headers) {
    return http("POST", url, std::move(headers), "").status;
  };
  auto refused = http("POST", url, {cookie, "Origin: https://evil.example"}, "");
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("Cross-site request refused."), std::string::npos) << refused.body;
  EXPECT_EQ(post({cookie, "Sec-Fetch-Site: cross-site"}), 403);
  EXPECT_EQ(post({cookie, "Sec-Fetch-Site: same-site"}), 403);
  EXPECT_EQ(post({cookie, "Origin: null"}), 403);
  EXPECT_EQ(post({cookie, "Origin: " + here + ".evil.example"}), 403);
  EXPECT_EQ(post({cookie, "Origin: " + here, "Sec-Fetch-Site: cross-site"}), 403);
  // Nothing was created by the refused ones.
  EXPECT_EQ(nlohmann::json::parse(call("GET", "/api/v2/chats", token).body).size(), 0u);
  // From this site, or from no browser at all.
  EXPECT_EQ(post({cookie, "Origin: " + here, "Sec-Fetch-Site: same-origin"}), 201);
  EXPECT_EQ(post({cookie, "Sec-Fetch-Site: none"}), 201);
  EXPECT_EQ(post({cookie}), 201);
  // Reads, and writes authenticated by a header or the query (which no other site can set).
  EXPECT_EQ(http("GET", url, {cookie, "Origin: https://evil.example"}).status, 200);
  EXPECT_EQ(post({"Coder-Session-Token: " + token, "Origin: https://evil.example"}), 201);
  EXPECT_EQ(http("POST", url + "?coder_session_token=" + token, {"Sec-Fetch-Site: cross-site"}, "")
                .status,
            201);
}

}  // namespace
}  // namespace chatd::test
