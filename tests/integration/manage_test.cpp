// Chat management through nginx (API.md §8): PATCH and DELETE of a chat, the list's order,
// filters, search and pages, and message pages.
#include <set>
#include <thread>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using nlohmann::json;

class Manage : public ReplyTest {
 protected:
  HttpResponse patch(const std::string& token, const std::string& chat, const std::string& body) {
    return call("PATCH", "/api/v2/chats/" + chat, token, body);
  }
  json get(const std::string& token, const std::string& chat) {
    return json::parse(call("GET", "/api/v2/chats/" + chat, token).body);
  }
  // The ids of GET /api/v2/chats?<query>, in order.
  std::vector<std::string> listed(const std::string& token, const std::string& query = "") {
    auto r = call("GET", "/api/v2/chats" + (query.empty() ? "" : "?" + query), token);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    std::vector<std::string> ids;
    if (r.status == 200)
      for (const auto& chat : json::parse(r.body)) ids.push_back(chat["id"]);
    return ids;
  }
  // A chat owned by `user` with `n` stored messages m0…m{n-1} (text "message i"), by SQL.
  std::string chat_with_messages(const std::string& token, int n) {
    std::string chat = create_chat(token)["id"];
    stack_->sql(
        "INSERT INTO chat_messages (chat_id, model, provider, content) SELECT '" + chat +
        "', 'fake-openai', 'openai', jsonb_build_object('id', 'm' || i, 'role', CASE WHEN i % 2 = "
        "0 THEN 'user' ELSE 'assistant' END, 'content', 'message ' || i, 'parts', "
        "jsonb_build_array(jsonb_build_object('type', 'text', 'text', 'message ' || i))) FROM "
        "generate_series(0, " +
        std::to_string(n - 1) + ") AS i");
    return chat;
  }
  static std::vector<std::string> ids(const std::string& body) {
    std::vector<std::string> out;
    for (const auto& m : json::parse(body)) out.push_back(m["id"]);
    return out;
  }
};

TEST_F(Manage, PatchChangesTheFieldsGivenAndNothingElse) {
  auto token = stack_->new_user_token(unique("patch"));
  std::string chat = create_chat(token)["id"];
  auto before = get(token, chat);

  // {} changes nothing, updated_at included.
  EXPECT_EQ(patch(token, chat, "{}").status, 204);
  EXPECT_EQ(get(token, chat), before);

  auto r = patch(token, chat, R"({"title":"  Trip to Lyon \u3000","labels":{"team":"a.b-c_1"}})");
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(r.body, "");
  auto after = get(token, chat);
  EXPECT_EQ(after["title"], "Trip to Lyon");
  EXPECT_EQ(after["labels"], json({{"team", "a.b-c_1"}}));
  EXPECT_GT(after["updated_at"].get<std::string>(), before["updated_at"].get<std::string>());
  EXPECT_EQ(after["created_at"], before["created_at"]);

  // Pinning, then archiving: archiving unpins; labels {} clears.
  EXPECT_EQ(patch(token, chat, R"({"pin_order":3})").status, 204);
  EXPECT_EQ(get(token, chat)["pin_order"], 3);
  EXPECT_EQ(patch(token, chat, R"({"archived":true,"labels":{}})").status, 204);
  after = get(token, chat);
  EXPECT_EQ(after["archived"], true);
  EXPECT_EQ(after["pin_order"], 0);
  EXPECT_EQ(after["labels"], json::object());
  EXPECT_EQ(after["title"], "Trip to Lyon");
  EXPECT_EQ(patch(token, chat, R"({"archived":false,"pin_order":1})").status, 204);
  after = get(token, chat);
  EXPECT_EQ(after["archived"], false);
  EXPECT_EQ(after["pin_order"], 1);
  // A title of exactly 200 code points (of 3 bytes each) is accepted.
  std::string long_title;
  for (int i = 0; i < 200; ++i) long_title += "\xe6\x97\xa5";
  EXPECT_EQ(patch(token, chat, json({{"title", long_title}}).dump()).status, 204);
  EXPECT_EQ(get(token, chat)["title"], long_title);
}

TEST_F(Manage, PatchRefusesWhatTheContractRefuses) {
  auto token = stack_->new_user_token(unique("patchbad"));
  std::string chat = create_chat(token)["id"];
  auto before = get(token, chat);
  std::string too_long(201, 'x');
  std::string labels51 = "{\"labels\":{";
  for (int i = 0; i < 51; ++i)
    labels51 += (i ? "," : "") + ("\"k" + std::to_string(i) + "\":\"v\"");
  labels51 += "}}";
  struct Case {
    std::string body;
    std::string message;
    std::string field;
  };
  std::vector<Case> cases = {
      {R"({"name":"x"})", "Validation failed.", "name"},
      {R"({"title":""})", "Validation failed.", "title"},
      {R"({"title":" \t "})", "Validation failed.", "title"},
      {json({{"title", too_long}}).dump(), "Validation failed.", "title"},
      {R"({"title":"a\u0007b"})", "Validation failed.", "title"},
      {R"({"title":"a\u0085b"})", "Validation failed.", "title"},
      {R"({"title":5})", "Validation failed.", "title"},
      {R"({"archived":"yes"})", "Validation failed.", "archived"},
      {R"({"pin_order":-1})", "Validation failed.", "pin_order"},
      {R"({"pin_order":1.5})", "Validation failed.", "pin_order"},
      {R"({"pin_order":4294967296})", "Validation failed.", "pin_order"},
      {R"({"labels":[]})", "Validation failed.", "labels"},
      {R"({"labels":{"bad key":"v"}})", "Validation failed.", "labels"},
      {R"({"labels":{"":"v"}})", "Validation failed.", "labels"},
      {R"({"labels":{"k":1}})", "Validation failed.", "labels"},
      {json({{"labels", {{"k", std::string(257, 'v')}}}}).dump(), "Validation failed.", "labels"},
      {labels51, "Validation failed.", "labels"},
      {R"([])", "Request body must be a JSON object.", ""},
      {R"({"title":)", "Request body must be valid JSON.", ""},
  };
  for (const auto& c : cases) {
    auto r = patch(token, chat, c.body);
    EXPECT_EQ(r.status, 400) << c.body;
    auto body = json::parse(r.body);
    EXPECT_EQ(body["message"], c.message) << c.body;
    if (!c.field.empty()) {
      EXPECT_EQ(body["validations"][0]["field"], c.field) << c.body;
    }
  }
  EXPECT_EQ(get(token, chat), before) << "a refused PATCH changed the chat";

  // 401 before 400 before 404 before the body's 400; another user and an admin get 404.
  EXPECT_EQ(patch("", chat, "{}").status, 401);
  EXPECT_EQ(patch(token, "nope", R"({"name":1})").status, 400);
  EXPECT_EQ(json::parse(patch(token, "nope", "{}").body)["message"], "Invalid chat ID.");
  auto other = stack_->new_user_token(unique("patchother"));
  auto admin = stack_->new_user_token(unique("patchadmin"), /*admin=*/true);
  for (const auto& t : {other, admin}) {
    auto r = patch(t, chat, R"({"name":1})");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(json::parse(r.body)["message"],
              "Resource not found or you do not have access to this resource");
    EXPECT_EQ(patch(t, chat, R"({"title":"mine"})").status, 404);
  }
  EXPECT_EQ(get(token, chat)["title"], "New Chat");
}

// A title set by PATCH while the chat's first reply is still generating one: the user's wins,
// and so does a later PATCH over a generated one.
TEST_F(Manage, ATitleSetByTheUserIsNeverReplacedByAGeneratedOne) {
  auto token = stack_->new_user_token(unique("titlerace"));
  std::string chat = create_chat(token)["id"];
  json script = {{"title", "Generated title"},
                 {"title_delay_ms", 600},
                 {"steps", {{{"text", "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9"}, {"token_delay_ms", 100}}}}};
  std::thread renaming([&] {
    EXPECT_TRUE(wait_until([&] { return get(token, chat)["status"] == "running"; }, 5s));
    EXPECT_EQ(patch(token, chat, R"({"title":"Mine"})").status, 204);
  });
  auto r = send(token, chat, "fake-openai", script_message(script));
  renaming.join();
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("w9"), std::string::npos);
  // The title job ends before the reply's stream does (the reply waits for it).
  EXPECT_EQ(get(token, chat)["title"], "Mine");

  std::string second = create_chat(token)["id"];
  ASSERT_EQ(send(token, second, "fake-openai",
                 script_message({{"title", "Generated title"}, {"steps", {{{"text", "x"}}}}}))
                .status,
            200);
  EXPECT_EQ(get(token, second)["title"], "Generated title");
  ASSERT_EQ(patch(token, second, R"({"title":"Renamed"})").status, 204);
  EXPECT_EQ(get(token, second)["title"], "Renamed");
}

TEST_F(Manage, DeleteTakesTheChatAndAllItHoldsThenEveryRouteIs404) {
  auto name = unique("delete");
  auto token = stack_->new_user_token(name);
  std::string chat = create_chat(token)["id"];
  // A reply stored, with an Idempotency-Key.
  auto r = http_stream(
      "POST", stack_->url("/api/v2/chats/" + chat + "/messages"),
      {"Coder-Session-Token: " + token, "Idempotency-Key: k1"},
      json({{"model", "fake-openai"}, {"message", script_message({{"steps", {{{"text", "hi"}}}}})}})
          .dump());
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(messages(token, chat).size(), 2u);
  auto other = stack_->new_user_token(unique("deleteother"));
  auto admin = stack_->new_user_token(unique("deleteadmin"), /*admin=*/true);
  EXPECT_EQ(call("DELETE", "/api/v2/chats/" + chat, other).status, 404);
  EXPECT_EQ(call("DELETE", "/api/v2/chats/" + chat, admin).status, 404);
  EXPECT_EQ(call("DELETE", "/api/v2/chats/" + chat).status, 401);
  EXPECT_EQ(call("DELETE", "/api/v2/chats/x", token).status, 400);

  auto deleted = call("DELETE", "/api/v2/chats/" + chat, token);
  EXPECT_EQ(deleted.status, 204);
  EXPECT_EQ(deleted.body, "");
  for (const char* table : {"chats WHERE id", "chat_messages WHERE chat_id",
                            "chat_replies WHERE chat_id", "idempotency_keys WHERE chat_id"})
    EXPECT_EQ(stack_->sql(std::string("SELECT count(*) FROM ") + table + " = '" + chat + "'")[0][0],
              "0")
        << table;
  std::string path = "/api/v2/chats/" + chat;
  EXPECT_EQ(call("DELETE", path, token).status, 404);
  EXPECT_EQ(call("GET", path, token).status, 404);
  EXPECT_EQ(call("PATCH", path, token, "{}").status, 404);
  EXPECT_EQ(call("GET", path + "/messages", token).status, 404);
  EXPECT_EQ(call("GET", path + "/stream", token).status, 404);
  EXPECT_EQ(call("POST", path + "/interrupt", token).status, 404);
  EXPECT_EQ(send(token, chat, "fake-openai", script_message({{"steps", {{{"text", "x"}}}}})).status,
            404);
  EXPECT_TRUE(listed(token).empty());
}

TEST_F(Manage, ListPutsPinsFirstAndLeavesArchivedOut) {
  auto token = stack_->new_user_token(unique("order"));
  std::vector<std::string> chats;  // oldest first
  for (int i = 0; i < 5; ++i) chats.push_back(create_chat(token)["id"]);
  EXPECT_EQ(listed(token),
            (std::vector<std::string>{chats[4], chats[3], chats[2], chats[1], chats[0]}));
  ASSERT_EQ(patch(token, chats[1], R"({"pin_order":2})").status, 204);
  ASSERT_EQ(patch(token, chats[0], R"({"pin_order":1})").status, 204);
  ASSERT_EQ(patch(token, chats[3], R"({"archived":true})").status, 204);
  EXPECT_EQ(listed(token), (std::vector<std::string>{chats[0], chats[1], chats[4], chats[2]}));
  EXPECT_EQ(listed(token, "q=archived:true"), (std::vector<std::string>{chats[3]}));
  EXPECT_EQ(listed(token, "q=archived:any"),
            (std::vector<std::string>{chats[0], chats[1], chats[4], chats[3], chats[2]}));
  EXPECT_EQ(listed(token, "q=archived:false"), listed(token));
  // Another user sees none of them, with any filter.
  auto other = stack_->new_user_token(unique("orderother"));
  EXPECT_TRUE(listed(other, "q=archived:any").empty());
}

TEST_F(Manage, FiltersAndFullTextSearch) {
  auto token = stack_->new_user_token(unique("filter"));
  std::string travel = create_chat(token)["id"];
  std::string cooking = create_chat(token)["id"];
  std::string plain = create_chat(token)["id"];
  ASSERT_EQ(
      patch(token, travel, R"({"title":"Trip to Lyon","labels":{"team":"a","kind":"x"}})").status,
      204);
  ASSERT_EQ(patch(token, cooking, R"({"title":"Soup recipes","labels":{"team":"b"}})").status, 204);
  // A word stored a moment ago is found at once: in a user message and in the model's answer.
  auto r = send(token, plain, "fake-openai",
                script_message({{"steps", {{{"text", "Bouillabaisse needs rascasse"}}}}},
                               "Tell me about marseille fish stew"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(listed(token, "q=marseille"), (std::vector<std::string>{plain}));
  EXPECT_EQ(listed(token, "q=RASCASSE"), (std::vector<std::string>{plain}));
  EXPECT_EQ(listed(token, "q=lyon"), (std::vector<std::string>{travel}));
  EXPECT_EQ(listed(token, "q=lyon%20marseille"), std::vector<std::string>{})
      << "all words must match";
  EXPECT_EQ(listed(token, "q=%22fish%20stew%22"), (std::vector<std::string>{plain}));
  EXPECT_EQ(listed(token, "q=%22stew%20fish%22"), std::vector<std::string>{});
  EXPECT_EQ(listed(token, "q=title:%22to%20LY%22"), (std::vector<std::string>{travel}));
  EXPECT_EQ(listed(token, "q=title:soup"), (std::vector<std::string>{cooking}));
  EXPECT_EQ(listed(token, "q=label:team:a"), (std::vector<std::string>{travel}));
  EXPECT_EQ(listed(token, "label=team:b"), (std::vector<std::string>{cooking}));
  EXPECT_EQ(listed(token, "label=team:a&label=kind:x"), (std::vector<std::string>{travel}));
  EXPECT_EQ(listed(token, "label=team:a&q=label:team:b"), std::vector<std::string>{});
  EXPECT_EQ(listed(token, "q=status:idle%20title:trip"), (std::vector<std::string>{travel}));
  EXPECT_EQ(listed(token, "q=status:running"), std::vector<std::string>{});
  // Another user's words are not found.
  auto other = stack_->new_user_token(unique("filterother"));
  EXPECT_TRUE(listed(other, "q=marseille").empty());

  // Malformed terms are 400 naming the term; so is a bad limit or cursor.
  for (const char* query : {"q=archived:maybe", "q=status:busy", "q=title:", "q=label:team",
                            "q=label:bad%20key:v", "q=%22open", "q=title:%22open", "label=nokey",
                            "limit=0", "limit=201", "limit=x", "limit=", "limit=1.5"}) {
    auto bad = call("GET", std::string("/api/v2/chats?") + query, token);
    EXPECT_EQ(bad.status, 400) << query;
    EXPECT_EQ(json::parse(bad.body)["message"], "Invalid query parameters.") << query;
    EXPECT_FALSE(json::parse(bad.body).value("detail", "").empty()) << query;
  }
  auto named = json::parse(call("GET", "/api/v2/chats?q=lyon%20archived:maybe", token).body);
  EXPECT_NE(named["detail"].get<std::string>().find("archived:maybe"), std::string::npos);
  for (const std::string& cursor :
       std::vector<std::string>{"nope", "00000000-0000-0000-0000-000000000000", travel}) {
    auto r2 = call("GET", "/api/v2/chats?before=" + cursor, cursor == travel ? other : token);
    EXPECT_EQ(r2.status, 400) << cursor;
    EXPECT_EQ(r2.body, R"({"message":"Invalid chat cursor."})");
  }
}

TEST_F(Manage, PagesVisitEveryChatOnceWhileNewOnesArrive) {
  auto token = stack_->new_user_token(unique("pages"));
  std::set<std::string> all;
  for (int i = 0; i < 8; ++i) all.insert(create_chat(token)["id"].get<std::string>());
  std::string pinned = *all.begin();
  ASSERT_EQ(patch(token, pinned, R"({"pin_order":1})").status, 204);
  std::vector<std::string> seen;
  std::string next = "/api/v2/chats?limit=3&q=archived:false";
  int pages = 0;
  while (!next.empty()) {
    auto r = call("GET", next, token);
    ASSERT_EQ(r.status, 200) << next << ": " << r.body;
    auto page = ids(r.body);
    EXPECT_LE(page.size(), 3u);
    seen.insert(seen.end(), page.begin(), page.end());
    if (pages++ == 0) {
      EXPECT_EQ(page.front(), pinned);
    }
    create_chat(token);  // newer than everything: it belongs before the pages already read
    next = link(r, "next");
    if (!next.empty()) {
      EXPECT_EQ(next.find("/api/v2/chats?"), 0u) << next;
      EXPECT_NE(next.find("q=archived:false"), std::string::npos) << "the filter stays";
      EXPECT_NE(next.find("limit=3"), std::string::npos);
    }
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), all);
  EXPECT_EQ(seen.size(), all.size()) << "a chat came twice";
  // The last page, exactly full, has no next link.
  auto exact = call("GET", "/api/v2/chats?limit=200", token);
  EXPECT_EQ(link(exact, "next"), "");
  // The token in the query string never goes into a link.
  auto r = call("GET", "/api/v2/chats?limit=1&coder_session_token=" + token, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("link").find(token.substr(0, 10)), std::string::npos) << r.header("link");
  EXPECT_NE(link(r, "next"), "");
}

TEST_F(Manage, MessagePagesWithCursorsAndLinks) {
  auto token = stack_->new_user_token(unique("mpages"));
  std::string chat = chat_with_messages(token, 7);
  std::string base = "/api/v2/chats/" + chat + "/messages";
  // No parameter: everything, as in 2025.
  EXPECT_EQ(ids(call("GET", base, token).body),
            (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4", "m5", "m6"}));
  auto newest = call("GET", base + "?limit=3", token);
  ASSERT_EQ(newest.status, 200);
  EXPECT_EQ(ids(newest.body), (std::vector<std::string>{"m4", "m5", "m6"}));
  EXPECT_EQ(link(newest, "next"), "");
  EXPECT_EQ(link(newest, "prev"), base + "?limit=3&before_id=m4");
  auto older = call("GET", link(newest, "prev"), token);
  EXPECT_EQ(ids(older.body), (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(link(older, "prev"), base + "?limit=3&before_id=m1");
  EXPECT_EQ(link(older, "next"), base + "?limit=3&after_id=m3");
  auto oldest = call("GET", link(older, "prev"), token);
  EXPECT_EQ(ids(oldest.body), (std::vector<std::string>{"m0"}));
  EXPECT_EQ(link(oldest, "prev"), "");
  EXPECT_EQ(ids(call("GET", base + "?after_id=m1&limit=2", token).body),
            (std::vector<std::string>{"m2", "m3"}));
  EXPECT_EQ(ids(call("GET", base + "?before_id=m3", token).body),
            (std::vector<std::string>{"m0", "m1", "m2"}))
      << "the default page is 50";
  EXPECT_EQ(ids(call("GET", base + "?after_id=m1&before_id=m4", token).body),
            (std::vector<std::string>{"m2", "m3"}));

  // Polling with after_id: nothing new is [], then the new message and only it.
  auto poll = call("GET", base + "?after_id=m6", token);
  EXPECT_EQ(poll.body, "[]");
  EXPECT_EQ(link(poll, "next"), "");
  ASSERT_EQ(
      send(token, chat, "fake-openai", script_message({{"steps", {{{"text", "new"}}}}})).status,
      200);
  auto fresh = json::parse(call("GET", base + "?after_id=m6", token).body);
  ASSERT_EQ(fresh.size(), 2u);
  EXPECT_EQ(fresh[0]["role"], "user");
  EXPECT_EQ(fresh[1]["role"], "assistant");

  // Unknown cursors, another chat's ids, bad limits.
  for (const char* query : {"?before_id=nope", "?after_id=nope", "?after_id=m1&before_id=zz"}) {
    auto r = call("GET", base + query, token);
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_EQ(r.body, R"({"message":"Invalid message cursor."})") << query;
  }
  std::string elsewhere = chat_with_messages(token, 1);
  EXPECT_EQ(call("GET", "/api/v2/chats/" + elsewhere + "/messages?before_id=m4", token).status,
            400);
  for (const char* query : {"?limit=0", "?limit=201", "?limit=-1"})
    EXPECT_EQ(call("GET", base + query, token).status, 400) << query;
  // Same owner rules as the whole history: another user 404, an admin reads.
  auto other = stack_->new_user_token(unique("mpagesother"));
  auto admin = stack_->new_user_token(unique("mpagesadmin"), /*admin=*/true);
  EXPECT_EQ(call("GET", base + "?limit=2", other).status, 404);
  EXPECT_EQ(call("GET", base + "?limit=2", admin).body, call("GET", base + "?limit=2", token).body);
}

// PATCH …/messages/{message}: an edit truncates and runs again, streaming exactly as a POST;
// the stored history afterwards is what the AI SDK client shows. Regenerating is the same call
// with the message unchanged.
TEST_F(Manage, AnEditTruncatesAndRunsAgainAndRegenerates) {
  auto token = stack_->new_user_token(unique("edit"));
  std::string chat = create_chat(token)["id"];
  auto first = script_message({{"steps", {{{"text", "one"}}}}}, "first");
  first["id"] = "u-1";
  ASSERT_EQ(send(token, chat, "fake-openai", first).status, 200);
  ASSERT_EQ(
      send(token, chat, "fake-openai", script_message({{"steps", {{{"text", "two"}}}}}, "second"))
          .status,
      200);
  auto before = messages(token, chat);
  ASSERT_EQ(before.size(), 4u);
  std::string path = "/api/v2/chats/" + chat + "/messages/u-1";
  auto edit = [&](const json& message, std::vector<std::string> headers = {}) {
    headers.push_back("Coder-Session-Token: " + token);
    return http_stream("PATCH", stack_->url(path), headers,
                       json({{"model", "fake-anthropic"}, {"message", message}}).dump());
  };
  auto edited = edit(script_message({{"steps", {{{"text", "edited answer"}}}}}, "first, edited"));
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(edited.header("x-vercel-ai-data-stream"), "v1");
  EXPECT_EQ(count_prefix(edited.lines(), "d:"), 1u) << edited.body;
  auto after = messages(token, chat);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0]["id"], "u-1");
  EXPECT_NE(after[0]["content"].get<std::string>().find("first, edited"), std::string::npos);
  expect_stored_as_rebuilt(edited, after[1]);
  EXPECT_NE(after[1]["id"], before[1]["id"]);

  // Regenerate: the same message again gives a new answer in place of the old.
  auto again = edit(after[0]);
  ASSERT_EQ(again.status, 200) << again.body;
  auto regenerated = messages(token, chat);
  ASSERT_EQ(regenerated.size(), 2u);
  EXPECT_EQ(regenerated[0]["content"], after[0]["content"]);
  EXPECT_NE(regenerated[1]["id"], after[1]["id"]);
  expect_stored_as_rebuilt(again, regenerated[1]);
  EXPECT_EQ(stack_->sql("SELECT c.stored_bytes = (SELECT sum(octet_length(content::text)) FROM "
                        "chat_messages WHERE chat_id = c.id) FROM chats c WHERE c.id = '" +
                        chat + "'")[0][0],
            "t");

  // Idempotency-Key: the repeat of a finished edit is the 409 of an already sent message.
  auto keyed = edit(after[0], {"Idempotency-Key: e1"});
  ASSERT_EQ(keyed.status, 200);
  auto repeat = edit(after[0], {"Idempotency-Key: e1"});
  EXPECT_EQ(repeat.status, 409);
  EXPECT_EQ(json::parse(repeat.body)["message"], "This message was already sent.");
  EXPECT_EQ(messages(token, chat).size(), 2u);
}

TEST_F(Manage, AnEditIsRefusedInTheOrderOfTheContract) {
  auto token = stack_->new_user_token(unique("editbad"));
  std::string chat = chat_with_messages(token, 4);  // m0 user, m1 assistant, …
  std::string base = "/api/v2/chats/" + chat + "/messages/";
  std::string good =
      json({{"model", "fake-openai"}, {"message", script_message({{"steps", {{{"text", "x"}}}}})}})
          .dump();
  auto patch_message = [&](const std::string& t, const std::string& id, const std::string& body) {
    return call("PATCH", base + id, t, body);
  };
  EXPECT_EQ(patch_message("", "m0", good).status, 401);
  EXPECT_EQ(call("PATCH", "/api/v2/chats/nope/messages/m0", token, "{").status, 400);
  // Not a user message of this chat: 404, before the body is read.
  for (const char* id : {"m1", "nope", "m9"}) {
    auto r = patch_message(token, id, "{");
    EXPECT_EQ(r.status, 404) << id;
    EXPECT_EQ(json::parse(r.body)["message"],
              "Resource not found or you do not have access to this resource");
  }
  auto other = stack_->new_user_token(unique("editother"));
  auto admin = stack_->new_user_token(unique("editadmin"), /*admin=*/true);
  EXPECT_EQ(patch_message(other, "m0", good).status, 404);
  EXPECT_EQ(patch_message(admin, "m0", good).status, 404);
  auto bad = patch_message(
      token, "m2", R"({"model":"fake-openai","message":{"role":"assistant","content":"x"}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["message"], "Failed to decode chat message");
  auto unknown =
      patch_message(token, "m2", R"({"model":"nope","message":{"role":"user","content":"x"}})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body, R"({"message":"Model not found"})");
  EXPECT_EQ(messages(token, chat).size(), 4u) << "a refused edit deleted messages";

  // While a reply runs: 409, and nothing is deleted.
  std::thread running([&] {
    send(token, chat, "fake-openai",
         script_message({{"steps", {{{"text", "a b c d e f g h"}, {"token_delay_ms", 150}}}}}));
  });
  ASSERT_TRUE(wait_until(
      [&] {
        return json::parse(call("GET", "/api/v2/chats/" + chat, token).body)["status"] == "running";
      },
      5s));
  auto busy = patch_message(token, "m2", good);
  EXPECT_EQ(busy.status, 409);
  EXPECT_EQ(json::parse(busy.body)["message"], "A reply is already being generated for this chat.");
  running.join();
  EXPECT_EQ(messages(token, chat).size(), 6u);
}

// archived-chat-retention (24h in the test stack): chats archived longer ago go, with their
// messages, however recently they were updated; chats archived since, and old ones not
// archived, stay; unarchiving stops the clock, archiving again starts it afresh.
TEST_F(Manage, ArchivedChatsPastTheirRetentionAreDeleted) {
  auto token = stack_->new_user_token(unique("retention"));
  std::string old_archived = chat_with_messages(token, 3);
  std::string fresh_archived = create_chat(token)["id"];
  std::string old_kept = create_chat(token)["id"];
  std::string rearchived = create_chat(token)["id"];
  for (const auto& chat : {old_archived, fresh_archived, rearchived})
    ASSERT_EQ(patch(token, chat, R"({"archived":true})").status, 204);
  // Touched since it was archived (the archiving is moved back below): it goes all the same.
  ASSERT_EQ(patch(token, old_archived, R"({"labels":{"k":"v"}})").status, 204);
  // Archived 25 hours ago, past the retention; `rearchived` 23 hours ago, short of it (the
  // expiry runs at any time and must not take it before it is unarchived).
  stack_->sql("UPDATE chats SET archived_at = now() - interval '25 hours' WHERE id = '" +
              old_archived + "'");
  stack_->sql("UPDATE chats SET archived_at = now() - interval '23 hours' WHERE id = '" +
              rearchived + "'");
  stack_->sql("UPDATE chats SET updated_at = now() - interval '25 hours' WHERE id = '" + old_kept +
              "'");
  // Unarchived and archived again: its clock starts afresh.
  ASSERT_EQ(patch(token, rearchived, R"({"archived":false})").status, 204);
  ASSERT_EQ(patch(token, rearchived, R"({"archived":true})").status, 204);
  EXPECT_EQ(stack_->sql("SELECT archived_at > now() - interval '1 minute' FROM chats WHERE id = '" +
                        rearchived + "'")[0][0],
            "t");
  EXPECT_TRUE(wait_until(
      [&] { return call("GET", "/api/v2/chats/" + old_archived, token).status == 404; }, 10s))
      << "the expired chat is still there";
  EXPECT_EQ(stack_->sql("SELECT count(*) FROM chat_messages WHERE chat_id = '" + old_archived +
                        "'")[0][0],
            "0");
  EXPECT_EQ(call("GET", "/api/v2/chats/" + fresh_archived, token).status, 200);
  EXPECT_EQ(call("GET", "/api/v2/chats/" + rearchived, token).status, 200);
  EXPECT_EQ(call("GET", "/api/v2/chats/" + old_kept, token).status, 200);
}

// A quiet watch is kept alive: `: ping` comes every stream-keepalive (1 s in the test stack).
TEST_F(Manage, AQuietWatchGetsItsPings) {
  auto token = stack_->new_user_token(unique("pinged"));
  auto start = std::chrono::steady_clock::now();
  auto r = http_stream(
      "GET", stack_->url("/api/v2/chats/watch"), {"Coder-Session-Token: " + token}, "", 10s,
      [](const std::string& body) { return body.find(": ping\n\n") != std::string::npos; });
  EXPECT_NE(r.body.find(": watching\n\n: ping\n\n"), std::string::npos) << r.body;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
}

}  // namespace
}  // namespace chatd::test
