// API.md §1 and §4 for the non-streaming routes, byte for byte, through nginx.
#include <fstream>
#include <map>
#include <regex>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using nlohmann::json;

constexpr const char* kNotFound =
    R"({"message":"Resource not found or you do not have access to this resource"})";

class Chats : public StackTest {};

TEST_F(Chats, UnknownRoutesAndMethods) {
  auto token = stack_->new_user_token(unique("routes"));
  for (const char* path : {"/api/v2/chats/", "/api/v2/nope", "/api/v2/chats/x/y/z",
                           "/api/v2/chats//messages", "/api/v2", "/api/v2/"}) {
    auto r = call("GET", path, token);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body, R"({"message":"Route not found."})") << path;
    EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8") << path;
  }
  // A wrong method is 405 before authentication, with Allow.
  auto r = call("DELETE", "/api/v2/chats");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, R"({"message":"Method not allowed."})");
  EXPECT_EQ(r.header("allow"), "GET, POST");
  r = call("PUT", "/api/v2/chats/" + std::string("00000000-0000-0000-0000-000000000000"), token);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, PATCH, DELETE");
  r = call("POST", "/healthz");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET");
}

TEST_F(Chats, BodyTooLargeFromTheWorkerAndFromNginx) {
  auto token = stack_->new_user_token(unique("large"));
  // The worker's limit in this stack is 64 KiB; nginx's is 4 MiB.
  auto r = call("POST", "/api/v2/chats", token, std::string(100 * 1024, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, R"({"message":"Request body too large."})");
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  r = call("POST", "/api/v2/chats", token, std::string(5 * 1024 * 1024, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, R"({"message":"Request body too large."})");
  // Nothing was created by either.
  EXPECT_EQ(call("GET", "/api/v2/chats", token).body, "[]");
}

TEST_F(Chats, EmptyListIsAnArray) {
  auto r = call("GET", "/api/v2/chats", stack_->new_user_token(unique("empty")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "[]");
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
}

TEST_F(Chats, CreateGetAndList) {
  auto name = unique("creator");
  auto token = stack_->new_user_token(name);
  auto r = call("POST", "/api/v2/chats", token, R"({"ignored": true})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto chat = json::parse(r.body);
  // Coder's field order, title "New Chat", created_at == updated_at, RFC 3339 UTC.
  EXPECT_EQ(r.body.find("{\"id\":"), 0u);
  EXPECT_LT(r.body.find("\"created_at\""), r.body.find("\"updated_at\""));
  EXPECT_LT(r.body.find("\"updated_at\""), r.body.find("\"title\""));
  EXPECT_LT(r.body.find("\"title\""), r.body.find("\"status\""));
  // API.md §8's fields after them.
  EXPECT_LT(r.body.find("\"status\""),
            r.body.find("\"archived\":false,\"pin_order\":0,\"labels\":{}}"));
  EXPECT_EQ(chat.size(), 8u);
  EXPECT_EQ(chat["status"], "idle");
  EXPECT_EQ(chat["title"], "New Chat");
  EXPECT_EQ(chat["created_at"], chat["updated_at"]);
  EXPECT_TRUE(std::regex_match(chat["created_at"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")));
  EXPECT_TRUE(
      std::regex_match(chat["id"].get<std::string>(),
                       std::regex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")));
  auto rows =
      stack_->sql("SELECT owner_id FROM chats WHERE id = '" + chat["id"].get<std::string>() + "'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], stack_->user_id(name));

  auto got = call("GET", "/api/v2/chats/" + chat["id"].get<std::string>(), token);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, r.body);
  // Upper-case and brace forms of the id are the same chat (as Go's uuid.Parse).
  std::string upper = chat["id"];
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(call("GET", "/api/v2/chats/" + upper, token).body, r.body);

  auto list = call("GET", "/api/v2/chats", token);
  EXPECT_EQ(list.body, "[" + r.body + "]");
}

TEST_F(Chats, ListIsNewestFirstWithIdTieBreak) {
  auto name = unique("order");
  auto token = stack_->new_user_token(name);
  auto owner = stack_->user_id(name);
  // Two chats with the same created_at, one older.
  stack_->sql(
      "INSERT INTO chats (id, owner_id, created_at, updated_at, title) VALUES "
      "('00000000-0000-0000-0000-00000000000a', '" +
      owner +
      "', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'a'),"
      "('00000000-0000-0000-0000-00000000000b', '" +
      owner +
      "', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'b'),"
      "('00000000-0000-0000-0000-00000000000c', '" +
      owner + "', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z', 'c <&> \"q\"')");
  auto newest = create_chat(token);
  auto r = call("GET", "/api/v2/chats", token);
  ASSERT_EQ(r.status, 200);
  auto list = json::parse(r.body);
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0]["id"], newest["id"]);
  EXPECT_EQ(list[1]["title"], "b");
  EXPECT_EQ(list[2]["title"], "a");
  EXPECT_EQ(list[3]["title"], "c <&> \"q\"");
  EXPECT_NE(r.body.find(R"("title":"c \u003c\u0026\u003e \"q\"")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("created_at":"2026-01-01T00:00:00.000000Z")"), std::string::npos);
}

TEST_F(Chats, InvalidIdNotFoundAndStatusOrder) {
  auto token = stack_->new_user_token(unique("statuses"));
  for (const char* suffix : {"", "/messages"}) {
    auto r = call("GET", std::string("/api/v2/chats/not-a-uuid") + suffix, token);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, R"({"message":"Invalid chat ID."})");
    r = call("GET", std::string("/api/v2/chats/5b4ba7e5-9f5d-4a6e-8f3c-2d7f1c9b0a11") + suffix,
             token);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, kNotFound);
    // 401 comes before 400: no token, and a well-formed token whose secret is wrong (which only
    // the database can tell).
    r = call("GET", std::string("/api/v2/chats/not-a-uuid") + suffix);
    EXPECT_EQ(r.status, 401);
    std::string wrong = token;
    wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
    r = call("GET", std::string("/api/v2/chats/not-a-uuid") + suffix, wrong);
    EXPECT_EQ(r.status, 401) << r.body;
  }
}

TEST_F(Chats, UsersAreIsolatedAndAdminsMayRead) {
  auto alice = stack_->new_user_token(unique("alice"));
  auto bob = stack_->new_user_token(unique("bob"));
  auto admin = stack_->new_user_token(unique("admin"), /*admin=*/true);
  auto created = call("POST", "/api/v2/chats", alice);
  ASSERT_EQ(created.status, 201);
  std::string id = nlohmann::json::parse(created.body)["id"];
  EXPECT_EQ(call("GET", "/api/v2/chats", bob).body, "[]");
  for (const char* suffix : {"", "/messages"}) {
    auto r = call("GET", "/api/v2/chats/" + id + suffix, bob);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, kNotFound);
    EXPECT_EQ(call("GET", "/api/v2/chats/" + id + suffix, admin).status, 200);
  }
  EXPECT_EQ(call("GET", "/api/v2/chats/" + id, admin).body, created.body);
  // The messages too, read with the admin's token check (not only an empty list).
  stack_->sql("INSERT INTO chat_messages (chat_id, model, provider, content) VALUES ('" + id +
              "', 'm', 'openai', '{\"id\": \"a1\", \"role\": \"user\", \"content\": "
              "\"hi <b>\"}'::jsonb)");
  auto own = call("GET", "/api/v2/chats/" + id + "/messages", alice);
  ASSERT_EQ(own.status, 200);
  EXPECT_NE(own.body.find("\"a1\""), std::string::npos) << own.body;
  EXPECT_NE(own.body.find("hi \\u003cb\\u003e"), std::string::npos) << own.body;
  EXPECT_EQ(call("GET", "/api/v2/chats/" + id + "/messages", admin).body, own.body);
  EXPECT_EQ(call("GET", "/api/v2/chats/" + id + "/messages", bob).status, 404);
  // An admin reads by id but never lists other users' chats.
  EXPECT_EQ(call("GET", "/api/v2/chats", admin).body, "[]");
}

TEST_F(Chats, MessagesInStoredOrder) {
  auto token = stack_->new_user_token(unique("history"));
  auto chat = create_chat(token);
  std::string id = chat["id"];
  EXPECT_EQ(call("GET", "/api/v2/chats/" + id + "/messages", token).body, "[]");
  // Two messages stored in one statement share created_at: id order decides.
  stack_->sql(
      "INSERT INTO chat_messages (chat_id, created_at, model, provider, content) "
      "SELECT '" +
      id +
      "', '2026-02-02T00:00:00Z', 'm', 'openai', c FROM (VALUES "
      "('{\"id\":\"1\",\"role\":\"user\",\"content\":\"Hello <b>\"}'::jsonb),"
      "('{\"id\":\"2\",\"role\":\"assistant\",\"content\":\"Hi\"}'::jsonb)) v(c)");
  stack_->sql(
      "INSERT INTO chat_messages (chat_id, created_at, model, provider, content) VALUES ('" + id +
      "', '2026-01-01T00:00:00Z', 'm', 'openai', "
      "'{\"id\":\"0\",\"role\":\"user\",\"content\":\"first\"}')");
  auto r = call("GET", "/api/v2/chats/" + id + "/messages", token);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json; charset=utf-8");
  auto messages = json::parse(r.body);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0]["content"], "first");
  EXPECT_EQ(messages[1]["content"], "Hello <b>");
  EXPECT_EQ(messages[2]["id"], "2");
  EXPECT_NE(r.body.find("Hello \\u003cb\\u003e"), std::string::npos);
}

// chatd is built as this test is (scripts/test: build/ or build-san/).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

// The kilobytes of a process's peak resident memory (VmHWM).
long peak_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// A chat larger than a worker should hold (20 batches of the statement's 8, across batch
// boundaries, of 1 MB each) is streamed from its rows: the response is whole and in order, and
// no worker's peak memory grows by more than a few messages' worth.
TEST_F(Chats, LargeHistoriesAreStreamedFromTheRows) {
  auto token = stack_->new_user_token(unique("large"));
  std::string id = create_chat(token)["id"];
  const int kMessages = 161;
  // Under AddressSanitizer (where peak memory is not checked, below) 100 kB each: still ten
  // times what is read at once, and not a minute of a busy machine's time.
  const size_t kSize = kAddressSanitizer ? 100'000 : 1'000'000;
  stack_->sql(
      "INSERT INTO chat_messages (chat_id, created_at, model, provider, content) "
      "SELECT '" +
      id +
      "', '2026-01-01T00:00:00Z'::timestamptz + (i / 3) * interval '1 second', 'm', "
      "'openai', jsonb_build_object('id', 'm' || i, 'role', 'assistant', 'content', "
      "repeat('x', " +
      std::to_string(kSize) + ")) FROM generate_series(1, " + std::to_string(kMessages) + ") i");
  // As chatd keeps it with every message it stores (a chat up to 1 MiB is read at once).
  stack_->sql(
      "UPDATE chats SET stored_bytes = (SELECT sum(octet_length(content::text)) FROM "
      "chat_messages WHERE chat_id = '" +
      id + "') WHERE id = '" + id + "'");
  std::map<pid_t, long> before;
  for (pid_t pid : stack_->chatd->worker_pids()) before[pid] = peak_kib(pid);
  auto r = http("GET", stack_->url("/api/v2/chats/" + id + "/messages"),
                {"Coder-Session-Token: " + token}, "", 60s);
  ASSERT_EQ(r.status, 200) << r.error;
  // Whole and in order, each message once (checked by scanning: a parse at -O0 takes long).
  ASSERT_GT(r.body.size(), kMessages * kSize);
  EXPECT_EQ(r.body.front(), '[');
  EXPECT_EQ(r.body.back(), ']');
  size_t at = 0;
  for (int i = 1; i <= kMessages; ++i) {
    at = r.body.find("\"id\": \"m" + std::to_string(i) + "\"", at);
    ASSERT_NE(at, std::string::npos) << "message " << i << " missing or out of order";
  }
  EXPECT_EQ(r.body.find("\"id\": \"m", at + 1), std::string::npos) << "a message twice";
  long grown = 0;
  for (const auto& [pid, kib] : before) grown = std::max(grown, peak_kib(pid) - kib);
  // The whole chat is 161 MB: held at once (or twice), it would show. (Not under
  // AddressSanitizer, whose quarantine keeps up to 256 MB of freed memory resident.)
  if (!kAddressSanitizer) {
    EXPECT_LT(grown, 64 * 1024) << "KiB";
  }
}

TEST_F(Chats, Healthz) {
  auto r = call("GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "OK");
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
}

}  // namespace
}  // namespace chatd::test
