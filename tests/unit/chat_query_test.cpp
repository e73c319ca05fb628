// handlers/chat_query: the list parameters of API.md §8 and the links to other pages.
#include "handlers/chat_query.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "handlers/error.hpp"

namespace chatd::http {
namespace {

using nlohmann::json;

Request with_query(const std::string& query) {
  Request request;
  request.path = "/api/v2/chats";
  request.query = query;
  return request;
}

std::string refused(const std::string& query) {
  try {
    chat_list_query(with_query(query));
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    return e.message + " " + e.detail;
  }
  return "accepted";
}

TEST(ChatListQuery, NoParametersIsTheUnarchivedList) {
  auto q = chat_list_query(with_query(""));
  EXPECT_EQ(q.archived, false);
  EXPECT_FALSE(q.running);
  EXPECT_FALSE(q.title);
  EXPECT_EQ(q.labels, "[]");
  EXPECT_EQ(q.words, "[]");
  EXPECT_FALSE(q.limit);
  EXPECT_FALSE(q.before);
}

TEST(ChatListQuery, TermsOfQ) {
  auto q = chat_list_query(with_query(
      "q=archived:any+status:running+title:%22my+trip%22+label:team:a:b+%22fish+stew%22+lyon++"
      "http://x&label=k:v&limit=20&before=6F9619FF-8B86-D011-B42D-00C04FC964FF"));
  EXPECT_FALSE(q.archived.has_value());
  EXPECT_EQ(q.running, true);
  EXPECT_EQ(q.title, "my trip");
  EXPECT_EQ(json::parse(q.labels), json::parse(R"([{"team":"a:b"},{"k":"v"}])"));
  EXPECT_EQ(json::parse(q.words), json::parse(R"(["fish stew","lyon","http://x"])"));
  EXPECT_EQ(q.limit, 20);
  EXPECT_EQ(q.before, "6f9619ff-8b86-d011-b42d-00c04fc964ff");
  EXPECT_EQ(chat_list_query(with_query("q=archived:true+status:idle")).running, false);
  EXPECT_EQ(chat_list_query(with_query("q=archived:true")).archived, true);
  EXPECT_EQ(chat_list_query(with_query("q=label:k:")).labels, R"([{"k":""}])");
}

TEST(ChatListQuery, MalformedTermsAreNamed) {
  EXPECT_NE(refused("q=lyon+archived:maybe").find("archived:maybe"), std::string::npos);
  EXPECT_NE(refused("q=status:done").find("status:done"), std::string::npos);
  EXPECT_NE(refused("q=title:").find("title:"), std::string::npos);
  EXPECT_NE(refused("q=title:%22open").find("title:\"open"), std::string::npos);
  EXPECT_NE(refused("q=%22open").find("quote"), std::string::npos);
  EXPECT_NE(refused("q=label:nokey").find("label:nokey"), std::string::npos);
  EXPECT_NE(refused("label=bad+key:v").find("label=bad key:v"), std::string::npos);
  std::string many = "q=";
  for (int i = 0; i < 33; ++i) many += "w+";
  EXPECT_NE(refused(many).find("at most 32"), std::string::npos);
  for (const char* limit : {"limit=0", "limit=201", "limit=-3", "limit=2x", "limit="})
    EXPECT_NE(refused(limit).find("limit must be"), std::string::npos) << limit;
  EXPECT_EQ(refused("before=nope"), "Invalid chat cursor. ");
  std::string labels = "q=word";
  for (int i = 0; i < 32; ++i) labels += "&label=k" + std::to_string(i) + ":v";
  EXPECT_NE(refused(labels).find("at most 32 terms together"), std::string::npos)
      << "label= filters count against the same cap as q's terms";
}

TEST(MessagePageQuery, OnlyWithAParameter) {
  EXPECT_FALSE(message_page_query(with_query("")));
  EXPECT_FALSE(message_page_query(with_query("other=1")));
  auto page = message_page_query(with_query("before_id=m%2F1"));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->limit, 50);
  EXPECT_EQ(page->before_id, "m/1");
  EXPECT_FALSE(page->after_id);
  EXPECT_EQ(message_page_query(with_query("limit=7&after_id=x"))->limit, 7);
}

TEST(PageLink, KeepsTheQueryReplacesTheCursorAndDropsTheToken) {
  auto request = with_query("q=a%20b&coder_session_token=secret&before=old&limit=3");
  EXPECT_EQ(page_link(request, {}, {{"before", "new id"}}, "next"),
            "</api/v2/chats?q=a%20b&limit=3&before=new%20id>; rel=\"next\"");
  EXPECT_EQ(page_link(request, {"limit", "before"}, {{"limit", "3"}, {"after_id", "m/1"}}, "prev"),
            "</api/v2/chats?q=a%20b&limit=3&after_id=m%2F1>; rel=\"prev\"");
}

}  // namespace
}  // namespace chatd::http
