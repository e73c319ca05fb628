// The pure parts of the MCP tools: exposed names, result mapping, truncation, and picking the
// response out of a JSON or SSE body.
#include "llm/mcp_tools.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "llm/mcp_client.hpp"

namespace chatd::llm {
namespace {

using json = nlohmann::json;
using Pairs = std::vector<std::pair<std::string, std::string>>;

bool valid_name(const std::string& name) {
  static const std::regex kRule("^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$");
  return std::regex_match(name, kRule);
}

void expect_valid_and_unique(const std::vector<std::string>& names) {
  std::set<std::string> seen;
  for (const auto& n : names) {
    EXPECT_TRUE(valid_name(n)) << n;
    EXPECT_TRUE(seen.insert(n).second) << "duplicate " << n;
  }
}

TEST(McpNames, PlainNamesAreServerTwoUnderscoresTool) {
  auto names =
      mcp_expose_names({{"everything", "get-sum"}, {"everything", "echo"}, {"git", "log"}});
  EXPECT_EQ(names,
            (std::vector<std::string>{"everything__get-sum", "everything__echo", "git__log"}));
}

TEST(McpNames, SanitizesCharactersProvidersReject) {
  EXPECT_EQ(mcp_sanitize_name("files.read/all ok-1_x"), "files_read_all_ok-1_x");
  EXPECT_EQ(mcp_sanitize_name("día"), "d__a");  // each byte of a multi-byte character
  auto names = mcp_expose_names({{"my server", "files.read"}});
  EXPECT_EQ(names[0], "my_server__files_read");
}

TEST(McpNames, StartsWithALetterOrUnderscore) {
  auto names = mcp_expose_names({{"1password", "get"}, {"-x", "y"}});
  EXPECT_EQ(names[0], "_1password__get");
  EXPECT_EQ(names[1], "_-x__y");
  expect_valid_and_unique(names);
}

TEST(McpNames, ASanitizedNameNeverTakesARealOne) {
  // "a.b" sanitizes to the real tool "a_b": the real one keeps its name, in either order.
  for (const auto& pairs : {Pairs{{"s", "a.b"}, {"s", "a_b"}}, Pairs{{"s", "a_b"}, {"s", "a.b"}}}) {
    auto names = mcp_expose_names(pairs);
    expect_valid_and_unique(names);
    size_t real = pairs[0].second == "a_b" ? 0 : 1;
    EXPECT_EQ(names[real], "s__a_b");
    EXPECT_TRUE(std::regex_match(names[1 - real], std::regex("^s__a_b_[0-9a-f]{8}$")))
        << names[1 - real];
  }
}

TEST(McpNames, ServersCannotCollide) {
  // Both would be "a__b__c".
  auto names = mcp_expose_names({{"a__b", "c"}, {"a", "b__c"}, {"a", "b__c"}});
  expect_valid_and_unique(names);
  EXPECT_EQ(names[0], "a__b__c");
}

TEST(McpNames, LongNamesAreCutWithAHash) {
  std::string tool(100, 'x');
  auto names = mcp_expose_names({{"server", tool}, {"server", tool + "y"}, {"server", tool + "z"}});
  expect_valid_and_unique(names);
  for (const auto& n : names) {
    EXPECT_EQ(n.size(), kMaxToolNameLength);
    EXPECT_EQ(n.substr(0, 8), "server__");
  }
  // Exactly 64 fits as it is; 65 does not.
  std::string fits = std::string(64 - 3, 't');
  EXPECT_EQ(mcp_expose_names({{"s", fits}})[0], "s__" + fits);
  EXPECT_NE(mcp_expose_names({{"s", fits + "t"}})[0], "s__" + fits + "t");
  EXPECT_EQ(mcp_expose_names({{"s", fits + "t"}})[0].size(), 64u);
}

TEST(McpNames, Deterministic) {
  Pairs pairs = {{"srv", "a.b"}, {"srv", "a_b"}, {"srv", std::string(80, 'q')}, {"x y", "z"}};
  EXPECT_EQ(mcp_expose_names(pairs), mcp_expose_names(pairs));
  expect_valid_and_unique(mcp_expose_names(pairs));
}

TEST(McpNames, EmptyAndOddInputsStillValid) {
  auto names = mcp_expose_names({{"", ""}, {"s", ""}, {"", "t"}, {"ü", "ß"}});
  expect_valid_and_unique(names);
}

TEST(McpResult, MapsTheMcpResultShape) {
  McpCallResult r;
  r.content = json::array({{{"type", "text"}, {"text", "hi"}}});
  EXPECT_EQ(mcp_result_json(r), (json{{"content", r.content}}));
  r.structured = {{"temperature", 36}};
  r.is_error = true;
  EXPECT_EQ(mcp_result_json(r),
            (json{{"content", r.content}, {"structuredContent", r.structured}, {"isError", true}}));
  McpCallResult empty;
  empty.content = nullptr;
  EXPECT_EQ(mcp_result_json(empty), (json{{"content", json::array()}}));
}

json text_result(const std::string& text) {
  return {{"content", json::array({{{"type", "text"}, {"text", text}}})}};
}

std::string marker_of(const json& result) {
  const auto& last = result["content"].back();
  return last["text"].get<std::string>();
}

TEST(McpTruncate, SmallResultsUnchanged) {
  auto r = text_result("hello");
  EXPECT_EQ(mcp_truncate_result(r, 1000), r);
  auto exact = text_result(std::string(100, 'a'));
  EXPECT_EQ(mcp_truncate_result(exact, exact.dump().size()), exact);
}

TEST(McpTruncate, CutsTextAndAppendsAMarker) {
  std::string text(10000, 'a');
  auto original = text_result(text);
  auto r = mcp_truncate_result(original, 1024);
  EXPECT_LE(r.dump().size(), 1024u);
  ASSERT_EQ(r["content"].size(), 2u);
  auto kept = r["content"][0]["text"].get<std::string>();
  EXPECT_GT(kept.size(), 800u);
  EXPECT_EQ(text.substr(0, kept.size()), kept);
  std::smatch m;
  std::string marker = marker_of(r);
  ASSERT_TRUE(std::regex_match(marker, m, std::regex(R"(\[truncated: (\d+) bytes omitted\])")))
      << marker;
  auto without_marker = r;
  without_marker["content"].erase(1);
  EXPECT_EQ(std::stoul(m[1]), original.dump().size() - without_marker.dump().size());
  EXPECT_EQ(r["content"][1]["type"], "text");
}

TEST(McpTruncate, EscapesAndMultiByteCharactersStayWithinTheLimitAndValid) {
  std::string text;
  for (int i = 0; i < 3000; ++i) text += i % 3 == 0 ? "\"\n" : (i % 3 == 1 ? "é" : "\x01");
  auto r = mcp_truncate_result(text_result(text), 2000);
  std::string dumped = r.dump();  // throws on invalid UTF-8
  EXPECT_LE(dumped.size(), 2000u);
  EXPECT_GT(dumped.size(), 1800u);
  EXPECT_EQ(json::parse(dumped), r);
  auto kept = r["content"][0]["text"].get<std::string>();
  EXPECT_EQ(text.substr(0, kept.size()), kept);
}

TEST(McpTruncate, LaterItemsDroppedLargeImagesDropped) {
  json r = {{"content",
             json::array(
                 {{{"type", "image"}, {"data", std::string(5000, 'A')}, {"mimeType", "image/png"}},
                  {{"type", "text"}, {"text", "small"}},
                  {{"type", "text"}, {"text", std::string(5000, 'b')}},
                  {{"type", "text"}, {"text", "after"}}})},
            {"isError", true}};
  auto t = mcp_truncate_result(r, 1000);
  EXPECT_LE(t.dump().size(), 1000u);
  EXPECT_EQ(t["isError"], true);
  const auto& c = t["content"];
  ASSERT_EQ(c.size(), 3u) << t.dump();
  EXPECT_EQ(c[0]["text"], "small");
  EXPECT_EQ(c[1]["text"].get<std::string>().find_first_not_of('b'), std::string::npos);
  EXPECT_GT(c[1]["text"].get<std::string>().size(), 700u);
  EXPECT_EQ(marker_of(t).rfind("[truncated: ", 0), 0u);
}

TEST(McpTruncate, LargeStructuredContentDroppedWhenTextCarriesIt) {
  json big = json::object();
  for (int i = 0; i < 500; ++i) big["k" + std::to_string(i)] = i;
  json r = {{"content", json::array({{{"type", "text"}, {"text", big.dump()}}})},
            {"structuredContent", big}};
  auto t = mcp_truncate_result(r, 4096);
  EXPECT_LE(t.dump().size(), 4096u);
  EXPECT_FALSE(t.contains("structuredContent"));
  EXPECT_EQ(t["content"].size(), 2u);
}

TEST(McpTruncate, SmallStructuredContentKept) {
  json r = {{"content", json::array({{{"type", "text"}, {"text", std::string(8000, 'x')}}})},
            {"structuredContent", {{"ok", true}}}};
  auto t = mcp_truncate_result(r, 2048);
  EXPECT_LE(t.dump().size(), 2048u);
  EXPECT_EQ(t["structuredContent"], (json{{"ok", true}}));
}

TEST(McpTruncate, StructuredOnlyBecomesText) {
  json big = json::array();
  for (int i = 0; i < 2000; ++i) big.push_back("item" + std::to_string(i));
  json r = {{"content", json::array()}, {"structuredContent", {{"items", big}}}};
  auto t = mcp_truncate_result(r, 3000);
  EXPECT_LE(t.dump().size(), 3000u);
  ASSERT_EQ(t["content"].size(), 2u);
  EXPECT_EQ(t["content"][0]["text"].get<std::string>().rfind("{\"items\":[\"item0\"", 0), 0u);
}

TEST(McpTruncate, TinyLimitStillValid) {
  auto t = mcp_truncate_result(text_result(std::string(500, 'z')), 10);
  ASSERT_EQ(t["content"].size(), 1u);
  EXPECT_EQ(marker_of(t).rfind("[truncated: ", 0), 0u);
}

TEST(McpResponseReader, SkipsNotificationsRequestsAndOtherIds) {
  McpResponseReader reader(7, /*sse=*/true);
  std::string body =
      "event: message\nid: 1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
      "\"params\":{\"progress\":1}}\n\n"
      "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"roots/list\"}\n\n"
      ": a comment\n\n"
      "event: other\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"wrong\":true}}\n\n"
      "data: {\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{}}\n\n"
      "data:\n\n"
      "data: {\"jsonrpc\":\"2.0\",\"id\":7,\r\ndata: \"result\":{\"ok\":1}}\r\n\r\n"
      "data: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"late\":1}}\n\n";
  bool done = false;
  for (size_t i = 0; i < body.size() && !done; i += 5) done = reader.feed(body.substr(i, 5));
  EXPECT_TRUE(done);
  ASSERT_TRUE(reader.response());
  EXPECT_EQ((*reader.response())["result"], (json{{"ok", 1}}));
}

TEST(McpResponseReader, SseStreamThatEndsWithoutBlankLine) {
  McpResponseReader reader("a", true);
  EXPECT_FALSE(reader.feed("data: {\"jsonrpc\":\"2.0\",\"id\":\"a\",\"error\":{\"code\":-1}}"));
  reader.finish();
  ASSERT_TRUE(reader.response());
}

TEST(McpResponseReader, JsonBodyAndBatch) {
  McpResponseReader one(3, false);
  EXPECT_FALSE(one.feed("{\"jsonrpc\":\"2.0\",\"id\":3,"));
  EXPECT_FALSE(one.feed("\"result\":{\"x\":1}}"));
  one.finish();
  ASSERT_TRUE(one.response());
  EXPECT_EQ((*one.response())["result"]["x"], 1);

  McpResponseReader batch(3, false);
  batch.feed(R"([{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":3,"result":{"y":2}}])");
  batch.finish();
  ASSERT_TRUE(batch.response());
  EXPECT_EQ((*batch.response())["result"]["y"], 2);

  McpResponseReader null_id(3, false);
  null_id.feed(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})");
  null_id.finish();
  ASSERT_TRUE(null_id.response());

  McpResponseReader garbage(3, false);
  garbage.feed("<html>");
  garbage.finish();
  EXPECT_FALSE(garbage.response());
}

TEST(McpClientConfig, RejectsMalformedAndReservedHeadersWithoutValues) {
  auto make = [](std::vector<std::string> headers) {
    McpServerConfig c;
    c.name = "srv";
    c.url = "http://127.0.0.1:1/mcp";
    c.headers = std::move(headers);
    return McpClient(c);
  };
  EXPECT_NO_THROW(make({"Authorization: Bearer sekrit-token", "X-Api-Key:abc"}));
  for (const auto& bad :
       std::vector<std::string>{"NoColon sekrit-token", ": sekrit-token", "Bad Name: sekrit-token",
                                "X: sekrit-token\r\nY: z", "Content-Type: sekrit-token",
                                "mcp-session-id: sekrit-token"}) {
    try {
      make({bad});
      ADD_FAILURE() << "accepted " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find("sekrit"), std::string::npos) << e.what();
    }
  }
}

TEST(McpClientConfig, SupportedVersions) {
  EXPECT_TRUE(mcp_supported_version("2025-06-18"));
  EXPECT_TRUE(mcp_supported_version("2025-03-26"));
  EXPECT_FALSE(mcp_supported_version("2024-11-05"));
  EXPECT_FALSE(mcp_supported_version("2025-11-25"));
  EXPECT_EQ(kMcpProtocolVersion, "2025-06-18");
}

}  // namespace
}  // namespace chatd::llm
