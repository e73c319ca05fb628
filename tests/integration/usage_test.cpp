// The usage ledger (API.md §9): a row per model call — every step and the title request —
// with the tokens its provider reported, read the same way for all three wire formats, and the
// cost of the configured price (the test stack prices fake-openai and fake-anthropic).
#include <csignal>
#include <set>
#include <thread>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using json = nlohmann::json;

class Usage : public ReplyTest {
 protected:
  // The chat's ledger rows, oldest first: kind and the counts ("-" for NULL).
  std::vector<std::vector<std::string>> ledger(const std::string& chat) {
    return stack_->sql(
        "SELECT kind, coalesce(input_tokens::text, '-'), coalesce(output_tokens::text, '-'), "
        "coalesce(cache_read_tokens::text, '-'), coalesce(cache_write_tokens::text, '-'), "
        "coalesce(reasoning_tokens::text, '-'), coalesce(cost_micros::text, '-'), model "
        "FROM usage_records WHERE chat_id = '" +
        chat + "' ORDER BY id");
  }
  // A thread joined however the test ends (an ASSERT must not leave it running).
  struct JoinedThread {
    std::thread thread;
    ~JoinedThread() {
      if (thread.joinable()) thread.join();
    }
  };
  // A chat with a reply running on `streaming` into `response`: 60 words 100 ms apart from
  // fake-anthropic, reporting `usage`, once a checkpoint holds its call in flight. A first
  // exchange comes before it (so it asks for no title), and the ledger of the chat is emptied.
  std::string chat_with_a_call_in_flight(const std::string& token, const json& usage,
                                         std::thread& streaming, StreamedResponse& response) {
    std::string chat = create_chat(token)["id"];
    EXPECT_EQ(
        send(token, chat, "fake-anthropic", script_message({{"steps", {{{"text", "first"}}}}}))
            .status,
        200);
    stack_->sql("DELETE FROM usage_records WHERE chat_id = '" + chat + "'");
    std::string words;
    for (int i = 0; i < 60; ++i) words += "w" + std::to_string(i) + " ";
    streaming = std::thread([this, token, chat, usage, words, &response] {
      response = send(token, chat, "fake-anthropic",
                      script_message({{"steps", {{{"text", words}, {"token_delay_ms", 100}}}},
                                      {"usage", usage}}));
    });
    EXPECT_TRUE(wait_until(
        [&] {
          return stack_->sql("SELECT open_call IS NOT NULL FROM chat_replies WHERE chat_id = '" +
                             chat + "'")[0][0] == "t";
        },
        10s));
    return chat;
  }
};

// Each step reports prompt 1000 (600 of it cache reads), 50 out (20 of it reasoning) and 40
// cache writes, in its provider's own fields; the title 30 in and 5 out.
TEST_F(Usage, TheLedgerHoldsEveryCallAsItsProviderReportedIt) {
  auto token = stack_->new_user_token(unique("ledger"));
  const json usage = {{"prompt", 1000},
                      {"completion", 50},
                      {"cache_read", 600},
                      {"cache_write", 40},
                      {"reasoning", 20}};
  // input / output / cache read / cache write / reasoning / cost of one step:
  // OpenAI counts cache reads in its prompt and reasoning in its completion, reports no cache
  // writes: 400×2.50 + 600×1.25 + 50×10 = 2250 micro-dollars. Anthropic reports cache reads and
  // writes beside input_tokens, no reasoning count: 1000×3 + 600×0.30 + 40×3.75 + 50×15 = 4080.
  // Gemini counts cache reads in its prompt, thoughts beside the candidates: no price.
  const std::map<std::string, std::vector<std::string>> step = {
      {"fake-openai", {"400", "50", "600", "-", "20", "2250"}},
      {"fake-anthropic", {"1000", "50", "600", "40", "-", "4080"}},
      {"fake-google", {"400", "70", "600", "-", "20", "-"}}};
  for (const auto& model : kModels) {
    SCOPED_TRACE(model);
    std::string chat = create_chat(token)["id"];
    json steps = json::array();
    if (stack_->mcp)
      steps.push_back(
          {{"text", "calling"},
           {"tool_calls", {{{"name", "everything__echo"}, {"args", {{"message", "hi"}}}}}}});
    steps.push_back({{"text", "done"}});
    auto r = send(token, chat, model,
                  script_message({{"steps", steps},
                                  {"usage", usage},
                                  {"title_usage", {{"prompt", 30}, {"completion", 5}}}}));
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(count_prefix(r.lines(), "d:"), 1u) << r.body;
    // Written before the reply's own record, on the same database thread: there by now.
    auto rows = ledger(chat);
    size_t steps_run = steps.size();
    ASSERT_EQ(rows.size(), steps_run + 1) << "one row per step and one for the title";
    size_t title = 0, seen_steps = 0;
    for (const auto& row : rows) {
      EXPECT_EQ(row[7], model);
      if (row[0] == "title") {
        ++title;
        EXPECT_EQ(row[1], "30");
        EXPECT_EQ(row[2], "5");
        continue;
      }
      ++seen_steps;
      EXPECT_EQ(std::vector<std::string>(row.begin() + 1, row.begin() + 7), step.at(model));
    }
    EXPECT_EQ(title, 1u);
    EXPECT_EQ(seen_steps, steps_run);
    // The chat's next reply asks for no title: its call alone.
    auto next = send(token, chat, model,
                     script_message({{"steps", {{{"text", "again"}}}}, {"usage", usage}}));
    ASSERT_EQ(count_prefix(next.lines(), "d:"), 1u) << next.body;
    EXPECT_EQ(ledger(chat).size(), steps_run + 2);
  }
}

// A call cut off mid-stream is recorded with what its provider had reported by then: Anthropic
// reports the input when the message starts, OpenAI nothing before its last chunk.
TEST_F(Usage, ACallCutShortIsRecordedWithWhatCameBeforeTheCut) {
  auto token = stack_->new_user_token(unique("cutledger"));
  const std::map<std::string, std::vector<std::string>> expected = {
      {"fake-openai", {"-", "-", "-", "-", "-", "-"}},
      {"fake-anthropic", {"1000", "1", "0", "0", "-", "3015"}}};
  for (const auto& [model, counts] : expected) {
    SCOPED_TRACE(model);
    std::string chat = create_chat(token)["id"];
    stack_->sql("UPDATE chats SET title = 'named' WHERE id = '" + chat + "'");
    // A first exchange, so that this reply asks for no title.
    ASSERT_EQ(send(token, chat, model, script_message({{"steps", {{{"text", "first"}}}}})).status,
              200);
    stack_->sql("DELETE FROM usage_records WHERE chat_id = '" + chat + "'");
    auto r = send(token, chat, model,
                  script_message({{"steps", {{{"text", "one two three four five six"}}}},
                                  {"usage", {{"prompt", 1000}}},
                                  {"cut_after", 2}}));
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(count_prefix(r.lines(), "3:"), 1u) << r.body;
    auto rows = ledger(chat);
    ASSERT_EQ(rows.size(), 1u) << "the cut call went unrecorded";
    EXPECT_EQ(rows[0][0], "step");
    EXPECT_EQ(std::vector<std::string>(rows[0].begin() + 1, rows[0].begin() + 7), counts);
  }
}

// An interrupt in the middle of a call ends it; the call is recorded with what its provider had
// reported by then (Anthropic: the input, when the message starts): 1000 × 3 + 1 × 15 = 3015.
TEST_F(Usage, AnInterruptedCallIsRecordedWithWhatCameBeforeTheInterrupt) {
  auto token = stack_->new_user_token(unique("interruptedcall"));
  StreamedResponse r;  // before the thread that writes it
  JoinedThread streaming;
  std::string chat = chat_with_a_call_in_flight(token, {{"prompt", 1000}}, streaming.thread, r);
  EXPECT_EQ(call("POST", "/api/v2/chats/" + chat + "/interrupt", token).status, 204);
  streaming.thread.join();
  EXPECT_EQ(count_prefix(r.lines(), "d:"), 1u) << r.body;
  auto rows = ledger(chat);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"step", "1000", "1", "0", "0", "-", "3015",
                                               "fake-anthropic"}));
}

// A worker killed in the middle of a call leaves the call to recovery, which records what the
// provider had reported by then (Anthropic: the input and cache counts, when the message starts)
// at its cost, as the reply's checkpoints saw it: 1000×3 + 600×0.30 + 40×3.75 + 1×15 = 3345.
TEST_F(Usage, ACallAKilledWorkerLeftIsRecordedByRecovery) {
  auto token = stack_->new_user_token(unique("killedcall"));
  StreamedResponse r;  // before the thread that writes it
  JoinedThread streaming;
  std::string chat = chat_with_a_call_in_flight(
      token, {{"prompt", 1000}, {"cache_read", 600}, {"cache_write", 40}}, streaming.thread, r);
  const std::string reply_row = "FROM chat_replies WHERE chat_id = '" + chat + "'";
  auto worker = stack_->sql("SELECT worker " + reply_row)[0][0];
  ASSERT_EQ(::kill(std::stoi(worker.substr(worker.rfind(':') + 1)), SIGKILL), 0);
  streaming.thread.join();
  ASSERT_TRUE(wait_until(
      [&] { return stack_->sql("SELECT finished_at IS NOT NULL " + reply_row)[0][0] == "t"; },
      15s));
  auto rows = ledger(chat);
  ASSERT_EQ(rows.size(), 1u) << "the killed call went unrecorded";
  EXPECT_EQ(rows[0], (std::vector<std::string>{"step", "1000", "1", "600", "40", "-", "3345",
                                               "fake-anthropic"}));
}

// Spend outlives the chat: deleting it keeps its calls in the ledger (budgets count them).
TEST_F(Usage, DeletingAChatKeepsItsSpend) {
  std::string user = unique("keepspend");
  auto token = stack_->new_user_token(user);
  std::string chat = create_chat(token)["id"];
  ASSERT_EQ(send(token, chat, "fake-openai", script_message({{"steps", {{{"text", "x"}}}}})).status,
            200);
  ASSERT_EQ(call("DELETE", "/api/v2/chats/" + chat, token).status, 204);
  auto left = stack_->sql("SELECT count(*), count(chat_id) FROM usage_records WHERE user_id = '" +
                          stack_->user_id(user) + "'");
  EXPECT_EQ(left.at(0).at(0), "2") << "the step and the title";
  EXPECT_EQ(left.at(0).at(1), "0");
}

// GET /api/v2/chats/cost/{user}/summary: the ledger's sums for the current month by default, by
// model and by chat (a deleted chat's under null), the dearest first; another user's for site
// admins only; bad dates and ids refused.
TEST_F(Usage, TheCostSummaryIsTheLedgersSums) {
  std::string user = unique("spender");
  auto token = stack_->new_user_token(user);
  const json usage = {{"prompt", 1000}, {"completion", 50}, {"cache_read", 600}};
  std::string priced = create_chat(token)["id"];
  std::string unpriced = create_chat(token)["id"];
  std::string deleted = create_chat(token)["id"];
  for (const auto& [chat, model] :
       {std::pair{priced, "fake-openai"}, std::pair{unpriced, "fake-google"},
        std::pair{deleted, "fake-openai"}}) {
    auto r = send(token, chat, model,
                  script_message({{"steps", {{{"text", "x"}}}},
                                  {"usage", usage},
                                  {"title_usage", {{"prompt", 30}, {"completion", 5}}}}));
    ASSERT_EQ(count_prefix(r.lines(), "d:"), 1u) << r.body;
  }
  ASSERT_EQ(call("DELETE", "/api/v2/chats/" + deleted, token).status, 204);
  std::string id = stack_->user_id(user);
  auto sums = stack_->sql(
      "SELECT sum(cost_micros), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), "
      "count(*) FROM usage_records WHERE user_id = '" +
      id + "'")[0];

  auto r = call("GET", "/api/v2/chats/cost/me/summary", token);
  ASSERT_EQ(r.status, 200) << r.body;
  auto summary = json::parse(r.body);
  // Each openai chat: a step of 400×2.50 + 600×1.25 + 50×10 = 2250 and a title of
  // 30×2.50 + 5×10 = 125 micro-dollars (its cached count reported as 0); Gemini has no price.
  EXPECT_EQ(summary["total_cost_micros"], 2 * (2250 + 125));
  EXPECT_EQ(std::to_string(summary["total_cost_micros"].get<long long>()), sums[0]);
  EXPECT_EQ(std::to_string(summary["input_tokens"].get<long long>()), sums[1]);
  EXPECT_EQ(std::to_string(summary["output_tokens"].get<long long>()), sums[2]);
  EXPECT_EQ(std::to_string(summary["cache_read_tokens"].get<long long>()), sums[3]);
  EXPECT_EQ(std::to_string(summary["calls"].get<long long>()), sums[4]);
  EXPECT_EQ(summary["calls"], 6);
  std::string month = stack_->sql(
      "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC'), "
      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")[0][0];
  EXPECT_EQ(summary["start_date"], month);
  ASSERT_EQ(summary["by_model"].size(), 2u) << summary.dump();
  EXPECT_EQ(summary["by_model"][0]["model"], "fake-openai");
  EXPECT_EQ(summary["by_model"][0]["total_cost_micros"], 2 * (2250 + 125));
  EXPECT_EQ(summary["by_model"][0]["calls"], 4);
  EXPECT_EQ(summary["by_model"][1]["model"], "fake-google");
  EXPECT_EQ(summary["by_model"][1]["total_cost_micros"], 0);
  ASSERT_EQ(summary["by_chat"].size(), 3u) << summary.dump();
  std::set<std::string> dear;
  for (int i : {0, 1}) {
    EXPECT_EQ(summary["by_chat"][i]["total_cost_micros"], 2250 + 125);
    dear.insert(summary["by_chat"][i]["chat_id"].is_null()
                    ? "deleted"
                    : summary["by_chat"][i]["chat_id"].get<std::string>());
  }
  EXPECT_EQ(dear, (std::set<std::string>{priced, "deleted"}));
  EXPECT_EQ(summary["by_chat"][2]["chat_id"], unpriced);
  EXPECT_TRUE(summary["by_chat"][2]["title"].is_string());

  // A range with nothing in it.
  auto empty = call("GET",
                    "/api/v2/chats/cost/me/summary?start_date=2000-01-01T00:00:00Z"
                    "&end_date=2000-02-01T00:00:00%2B01:00",
                    token);
  ASSERT_EQ(empty.status, 200) << empty.body;
  auto none = json::parse(empty.body);
  EXPECT_EQ(none["start_date"], "2000-01-01T00:00:00.000000Z");
  EXPECT_EQ(none["end_date"], "2000-01-31T23:00:00.000000Z");
  EXPECT_EQ(none["total_cost_micros"], 0);
  EXPECT_EQ(none["by_model"], json::array());
  EXPECT_EQ(none["by_chat"], json::array());
  for (const char* bad : {"?start_date=yesterday", "?end_date=2026-13-01T00:00:00Z",
                          "?start_date=2026-02-30T00:00:00Z", "?start_date=2026-12-01"}) {
    auto refused = call("GET", std::string("/api/v2/chats/cost/me/summary") + bad, token);
    EXPECT_EQ(refused.status, 400) << bad << " " << refused.body;
  }

  // Another user's: a member gets the 404 of what it may not read; a site admin the summary.
  auto other = stack_->new_user_token(unique("nosy"));
  EXPECT_EQ(call("GET", "/api/v2/chats/cost/" + id + "/summary", other).status, 404);
  auto admin = stack_->new_user_token(unique("costadmin"), /*admin=*/true);
  auto as_admin = call("GET", "/api/v2/chats/cost/" + id + "/summary", admin);
  ASSERT_EQ(as_admin.status, 200);
  EXPECT_EQ(json::parse(as_admin.body)["total_cost_micros"], 2 * (2250 + 125));
  EXPECT_EQ(
      call("GET", "/api/v2/chats/cost/00000000-0000-0000-0000-000000000001/summary", admin).status,
      404);
  EXPECT_EQ(call("GET", "/api/v2/chats/cost/not-a-user/summary", admin).status, 400);
  EXPECT_EQ(call("GET", "/api/v2/chats/cost/me/summary", "").status, 401);
}

// GET /api/v2/chats/cost/users: each user's totals in the range, the dearest first (ties by user
// id, the larger first), paged by `limit` and `before`; site admins only. The rows are written
// by SQL into January 2001, a range no other test uses.
TEST_F(Usage, EveryUsersCostsForAdminsPagedTheDearestFirst) {
  const std::string range = "start_date=2001-01-01T00:00:00Z&end_date=2001-02-01T00:00:00Z";
  stack_->sql("DELETE FROM usage_records WHERE created_at < '2002-01-01'");
  std::map<std::string, std::string> ids;  // name -> user id
  for (const char* name : {"u300a", "u500", "u300b", "unpriced"}) {
    std::string user = unique(name);
    stack_->new_user_token(user);
    ids[name] = stack_->user_id(user);
  }
  auto spend = [&](const std::string& name, const std::string& cost, int input) {
    stack_->sql(
        "INSERT INTO usage_records (user_id, message_id, kind, model, provider, input_tokens, "
        "output_tokens, cost_micros, created_at) VALUES ('" +
        ids[name] + "', 'm', 'step', 'fake-openai', 'openai', " + std::to_string(input) + ", 1, " +
        cost + ", '2001-01-15T12:00:00Z')");
  };
  spend("u300a", "100", 10);
  spend("u300a", "200", 20);
  spend("u500", "500", 5);
  spend("u300b", "300", 7);
  spend("unpriced", "NULL", 9);
  spend("u500", "1", 1);  // outside the range: not counted
  stack_->sql("UPDATE usage_records SET created_at = '2001-02-01T00:00:00Z' WHERE user_id = '" +
              ids["u500"] + "' AND cost_micros = 1");
  // The dearest first; the two at 300 by user id, the larger first; no price last.
  std::vector<std::string> order = {ids["u500"], std::max(ids["u300a"], ids["u300b"]),
                                    std::min(ids["u300a"], ids["u300b"]), ids["unpriced"]};

  auto admin = stack_->new_user_token(unique("costsadmin"), /*admin=*/true);
  auto r = call("GET", "/api/v2/chats/cost/users?" + range, admin);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json::parse(r.body);
  EXPECT_EQ(body["start_date"], "2001-01-01T00:00:00.000000Z");
  EXPECT_EQ(body["end_date"], "2001-02-01T00:00:00.000000Z");
  ASSERT_EQ(body["users"].size(), 4u) << body.dump();
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(body["users"][i]["user_id"], order[i]);
  EXPECT_EQ(body["users"][0]["total_cost_micros"], 500);
  EXPECT_EQ(body["users"][0]["calls"], 1);
  auto& a = body["users"][order[1] == ids["u300a"] ? 1 : 2];
  EXPECT_EQ(a["total_cost_micros"], 300);
  EXPECT_EQ(a["input_tokens"], 30);
  EXPECT_EQ(a["calls"], 2);
  EXPECT_EQ(body["users"][3]["total_cost_micros"], 0);
  EXPECT_TRUE(body["users"][0]["username"].is_string());

  // One a page: every user once, in the same order, the last page without a next link.
  std::vector<std::string> paged;
  std::string next = "/api/v2/chats/cost/users?" + range + "&limit=1";
  while (!next.empty() && paged.size() < 10) {
    auto page = call("GET", next, admin);
    ASSERT_EQ(page.status, 200) << page.body;
    auto listed = json::parse(page.body);
    for (const auto& u : listed["users"]) paged.push_back(u["user_id"]);
    next = link(page, "next");
  }
  EXPECT_EQ(paged, order);

  EXPECT_EQ(call("GET", "/api/v2/chats/cost/users?" + range + "&before=nope", admin).status, 400);
  // A cursor that is no user with calls in the range.
  EXPECT_EQ(
      call("GET",
           "/api/v2/chats/cost/users?" + range + "&before=00000000-0000-0000-0000-000000000002",
           admin)
          .status,
      400);
  EXPECT_EQ(call("GET", "/api/v2/chats/cost/users?limit=0", admin).status, 400);
  EXPECT_EQ(call("GET", "/api/v2/chats/cost/users?start_date=soon", admin).status, 400);
  // `chatd usage` prints the same, the dearest first, costs in dollars.
  auto printed = stack_->chatd->cli(
      {"usage", "--start", "2001-01-01T00:00:00Z", "--end", "2001-02-01T00:00:00Z"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  auto at = [&](const std::string& text) { return printed.out.find(text); };
  EXPECT_NE(at("From 2001-01-01T00:00:00.000000Z to 2001-02-01T00:00:00.000000Z"),
            std::string::npos)
      << printed.out;
  EXPECT_NE(at("$0.0005 "), std::string::npos) << printed.out;
  EXPECT_LT(at("$0.0005 "), at("$0.0003 ")) << printed.out;
  EXPECT_LT(at("$0.0003 "), at("$0.00 ")) << printed.out;
  EXPECT_EQ(stack_->chatd->cli({"usage", "--start", "tomorrow"}).exit_code, 2);

  auto member = stack_->new_user_token(unique("costsmember"));
  auto refused = call("GET", "/api/v2/chats/cost/users", member);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(json::parse(refused.body)["message"], "Forbidden.");
}

}  // namespace
}  // namespace chatd::test
