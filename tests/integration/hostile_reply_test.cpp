// A hostile model, tool or reader (issue 14): any byte in text, reasoning, tool arguments and
// tool results; a client that stops reading. What is stored is what was streamed, the reply
// ends as the model ended it, a live reply is never taken for dead, and no reply text reaches
// a log line.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using nlohmann::json;

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD
const std::string kNul("\0", 1);                  // U+0000 (a literal would end at it)

class HostileReply : public ReplyTest {
 protected:
  std::string chat_status(const std::string& token, const std::string& chat) {
    return json::parse(call("GET", "/api/v2/chats/" + chat, token).body)["status"];
  }
  std::string chatd_log() const { return read_file(stack_->chatd->log_path()); }

  // Sends a scripted POST …/messages on a socket of its own with a small receive buffer, so
  // that the test decides how fast the reply is read; returns the socket (-1 on failure).
  int post_raw(const std::string& token, const std::string& chat, const json& script) {
    std::string body = json({{"model", "fake-openai"}, {"message", script_message(script)}}).dump();
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int small = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(stack_->nginx->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string request =
        "POST /api/v2/chats/" + chat +
        "/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nCoder-Session-Token: " + token +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(request.size())) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  bool finished_reply(const std::string& chat) {
    return stack_->sql(
               "SELECT count(*) FROM chat_replies WHERE finished_at IS NOT NULL AND "
               "chat_id = '" +
               chat + "'")[0][0] == "1";
  }
  // The reply is stored as the model ended it (not taken for dead), with all of its text.
  void expect_stored_whole(const std::string& token, const std::string& chat, size_t length) {
    auto stored = stack_->sql(
        "SELECT finish_reason, length(content->>'content') FROM chat_messages WHERE chat_id = '" +
        chat + "' AND content->>'role' = 'assistant'");
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0][0], "stop") << "taken for dead while it ran";
    EXPECT_GE(std::stoul(stored[0][1]), length) << "not stored whole";
    EXPECT_EQ(chat_status(token, chat), "idle");
  }
};

// PostgreSQL's jsonb refuses U+0000: it used to fail every checkpoint and the finish, so the
// reply was taken for dead while it streamed, and lost.
TEST_F(HostileReply, AU0000IsStoredAsItWasStreamedOnEveryProvider) {
  auto token = stack_->new_user_token(unique("nul"));
  for (const auto& model : kModels) {
    SCOPED_TRACE(model);
    std::string chat = create_chat(token)["id"];
    json steps = json::array();
    if (stack_->mcp) {
      // Arguments and the echoed result carry it too.
      steps.push_back(
          {{"text", "call" + kNul + "ing"},
           {"tool_calls",
            {{{"name", "everything__echo"}, {"args", {{"message", "to" + kNul + "ol"}}}}}}});
    }
    steps.push_back({{"text", "alpha be" + kNul + "ta gamma"}});
    auto r = send(token, chat, model, script_message({{"steps", steps}}));
    ASSERT_EQ(r.status, 200);
    auto lines = r.lines();
    EXPECT_EQ(count_prefix(lines, "3:"), 0u) << r.body;
    ASSERT_EQ(count_prefix(lines, "d:"), 1u) << r.body;
    EXPECT_EQ(lines.back().rfind("d:{\"finishReason\":\"stop\"", 0), 0u) << r.body;
    EXPECT_EQ(r.body.find("\\u0000"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("be" + kReplacement + "ta"), std::string::npos) << r.body;
    if (stack_->mcp) {
      EXPECT_NE(r.body.find("to" + kReplacement + "ol"), std::string::npos) << r.body;
      EXPECT_NE(r.body.find("Echo: to" + kReplacement + "ol"), std::string::npos) << r.body;
    }

    auto stored = messages(token, chat);
    ASSERT_EQ(stored.size(), 2u) << "the reply was lost";
    expect_stored_as_rebuilt(r, stored[1]);
    EXPECT_EQ(chat_status(token, chat), "idle");
    auto reason = stack_->sql("SELECT finish_reason FROM chat_messages WHERE chat_id = '" + chat +
                              "' AND content->>'role' = 'assistant'");
    EXPECT_EQ(reason.at(0).at(0), "stop");
    // The chat goes on: the history with U+FFFD replays to the provider.
    auto next = send(token, chat, model, script_message({{"steps", {{{"text", "next"}}}}}));
    EXPECT_EQ(count_prefix(next.lines(), "d:"), 1u) << next.body;
    EXPECT_EQ(messages(token, chat).size(), 4u);
  }
  std::string log = chatd_log();
  EXPECT_EQ(log.find("gamma"), std::string::npos) << "reply text in chatd's log";
  EXPECT_EQ(log.find("alpha be"), std::string::npos) << "reply text in chatd's log";
}

// Whatever else makes PostgreSQL refuse a reply's record (here a trigger that refuses a word,
// quoting it): the reply ends with an error part instead of streaming on without a heartbeat,
// what was checkpointed before is stored as failed, the chat is free, and the refused text is
// in no log line.
TEST_F(HostileReply, ARefusedCheckpointEndsTheReplyWithAnErrorPart) {
  stack_->sql(R"(
    CREATE OR REPLACE FUNCTION refuse_marker() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF strpos(NEW.parts, 'REFUSEME') > 0 THEN
        RAISE EXCEPTION 'refused: %', NEW.parts;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_marker BEFORE INSERT OR UPDATE ON chat_reply_parts
      FOR EACH ROW EXECUTE FUNCTION refuse_marker();)");
  auto token = stack_->new_user_token(unique("refused"));
  std::string chat = create_chat(token)["id"];
  std::string words;
  for (int i = 0; i < 30; ++i) words += (i == 15 ? "REFUSEME" : "w" + std::to_string(i)) + " ";
  auto r = send(token, chat, "fake-openai",
                script_message({{"steps", {{{"text", words}, {"token_delay_ms", 100}}}}}));
  stack_->sql("DROP TRIGGER refuse_marker ON chat_reply_parts; DROP FUNCTION refuse_marker();");
  ASSERT_EQ(r.status, 200);
  auto lines = r.lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "3:\"The reply failed: it could not be stored.\"") << r.body;
  EXPECT_EQ(count_prefix(lines, "d:"), 0u) << r.body;
  EXPECT_EQ(r.body.find("w29"), std::string::npos) << "the reply streamed on: " << r.body;

  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u) << "nothing of the reply was stored";
  std::string content = stored[1]["content"];
  EXPECT_NE(content.find("w0"), std::string::npos) << content;
  EXPECT_EQ(content.find("REFUSEME"), std::string::npos) << content;
  auto reason = stack_->sql("SELECT finish_reason FROM chat_messages WHERE chat_id = '" + chat +
                            "' AND content->>'role' = 'assistant'");
  EXPECT_EQ(reason.at(0).at(0), "error");
  EXPECT_EQ(chat_status(token, chat), "idle");
  // The request's log line says why, by SQLSTATE (P0001: raised by the trigger), without what
  // PostgreSQL's message quotes.
  std::string log = chatd_log();
  EXPECT_EQ(log.find("REFUSEME"), std::string::npos) << "refused text in chatd's log";
  EXPECT_NE(log.find("\"chat_id\":\"" + chat + "\""), std::string::npos);
  bool said = false;
  for (size_t at = log.find(chat); at != std::string::npos; at = log.find(chat, at + 1)) {
    auto start = log.rfind('\n', at) + 1;
    std::string line = log.substr(start, log.find('\n', at) - start);
    said = said || line.find("\"error\":\"database error P0001\"") != std::string::npos;
  }
  EXPECT_TRUE(said) << "no log line of the request says why it failed";
}

// A client that stops reading (here: one that never reads, with a small receive buffer) must
// not stop the reply's thread, and with it the heartbeat: its writes fail after a bounded time
// (kStalledWriteTimeout, 2 s), and the reply goes on by the on-disconnect rule (continue, on
// the shared stack) and is stored whole, never taken for dead.
TEST_F(HostileReply, AReaderThatReadsNothingDoesNotStopTheReply) {
  auto token = stack_->new_user_token(unique("deaf"));
  std::string chat = create_chat(token)["id"];
  // About 3 MB in 3,000 parts, as fast as the fake can send them.
  int fd = post_raw(
      token, chat,
      {{"steps",
        {{{"text", std::string(1000, 'x') + " "}, {"repeat", 3000}, {"token_delay_ms", 0}}}}});
  ASSERT_GE(fd, 0);
  // Never read. The reply ends all the same, and as the model ended it (under the sanitizers,
  // with the other shards beside it, 3 MB of checkpoints have taken close to a minute).
  bool finished = wait_until([&] { return finished_reply(chat); }, 120s, 100ms);
  ::close(fd);
  ASSERT_TRUE(finished) << "the reply never ended";
  expect_stored_whole(token, chat, 3000u * 1000u);
}

// A reply's own checkpoints are not its heartbeat: its request thread may be held for long
// stretches by a client that reads slowly but steadily (no write ever times out while a large
// part trickles out), and a live reply must not be taken for dead meanwhile. Its worker's
// heartbeat (chat_replies_heartbeat.sql) keeps every reply it runs alive, whatever their
// threads do. Here a trigger keeps the checkpoints of an 8 s reply (the statements that write
// its parts) from moving the heartbeat, as if its thread were stuck: recovery (5 s, checked
// every 2 s) used to take it for dead.
TEST_F(HostileReply, AReplyIsKeptAliveByItsWorkerWhateverItsThreadDoes) {
  auto token = stack_->new_user_token(unique("alive"));
  std::string chat = create_chat(token)["id"];
  stack_->sql(R"(
    CREATE SEQUENCE IF NOT EXISTS frozen_checkpoints;
    CREATE OR REPLACE FUNCTION freeze_checkpoint_heartbeat() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.chat_id = ')" +
              chat + R"('
         AND strpos(current_query(), 'chat_reply_parts') > 0 AND NEW.finished_at IS NULL THEN
        NEW.heartbeat_at := OLD.heartbeat_at;
        PERFORM nextval('frozen_checkpoints');
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER freeze_checkpoint_heartbeat BEFORE UPDATE ON chat_replies
      FOR EACH ROW EXECUTE FUNCTION freeze_checkpoint_heartbeat();)");
  std::string words;
  for (int i = 0; i < 80; ++i) words += "w" + std::to_string(i) + " ";
  auto r = send(token, chat, "fake-openai",
                script_message({{"steps", {{{"text", words}, {"token_delay_ms", 100}}}}}));
  auto frozen = stack_->sql("SELECT last_value, is_called FROM frozen_checkpoints");
  stack_->sql(
      "DROP TRIGGER freeze_checkpoint_heartbeat ON chat_replies; "
      "DROP FUNCTION freeze_checkpoint_heartbeat(); DROP SEQUENCE frozen_checkpoints;");
  // The checkpoints of an 8 s reply (one a second) were kept from moving the heartbeat.
  ASSERT_EQ(frozen.at(0).at(1), "t") << "the trigger never held a checkpoint back";
  EXPECT_GE(std::stoi(frozen.at(0).at(0)), 5);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(count_prefix(r.lines(), "d:"), 1u) << r.body;
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u);
  expect_stored_as_rebuilt(r, stored[1]);
  auto reason = stack_->sql("SELECT finish_reason FROM chat_messages WHERE chat_id = '" + chat +
                            "' AND content->>'role' = 'assistant'");
  EXPECT_EQ(reason.at(0).at(0), "stop") << "taken for dead while it ran";
}

// A worker so stalled that its replies miss their heartbeat for 5 s loses them to recovery,
// which stores what their checkpoints hold; the reply, when it ends, finds itself finished
// already and writes nothing over that, and its request's log line says so. Here a trigger
// keeps every write of a running reply (the heartbeat's and the checkpoints') from moving its
// heartbeat, as if its worker were stuck.
TEST_F(HostileReply, AReplyTakenForDeadIsLoggedAsSuch) {
  auto token = stack_->new_user_token(unique("stalled"));
  std::string chat = create_chat(token)["id"];
  stack_->sql(R"(
    CREATE OR REPLACE FUNCTION stall_heartbeat() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.chat_id = ')" +
              chat + R"(' AND NEW.finished_at IS NULL THEN
        NEW.heartbeat_at := OLD.heartbeat_at;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER stall_heartbeat BEFORE UPDATE ON chat_replies
      FOR EACH ROW EXECUTE FUNCTION stall_heartbeat();)");
  std::string words;
  for (int i = 0; i < 100; ++i) words += "w" + std::to_string(i) + " ";
  auto r = send(token, chat, "fake-openai",
                script_message({{"steps", {{{"text", words}, {"token_delay_ms", 100}}}}}));
  stack_->sql("DROP TRIGGER stall_heartbeat ON chat_replies; DROP FUNCTION stall_heartbeat();");
  ASSERT_EQ(r.status, 200);
  auto reason = stack_->sql("SELECT finish_reason FROM chat_messages WHERE chat_id = '" + chat +
                            "' AND content->>'role' = 'assistant'");
  ASSERT_EQ(reason.size(), 1u);
  EXPECT_EQ(reason.at(0).at(0), "error") << "not recovered";
  EXPECT_TRUE(wait_until(
      [&] {
        for (const auto& entry : log_entries(stack_->chatd->log_path()))
          if (entry.value("chat_id", "") == chat &&
              entry.value("error", "") == "the reply was recovered as dead before it ended")
            return true;
        return false;
      },
      10s));
}

// Followers must not take PostgreSQL's connections: they share their worker's one LISTEN
// connection, so an instance holds at most workers × (db-pool-size + 1) connections however
// many follow (README "Connections to PostgreSQL"). Here 2 × (2 + 1) = 6, with 24 followers
// of 3 replies; each used to hold a connection of its own.
TEST_F(HostileReply, ACrowdOfFollowersHoldsNoConnectionOfItsOwn) {
  Instance crowd(*stack_, "crowd", {{"--db-pool-size", "2"}},
                 stack_->postgres->url() + " application_name=crowd");
  auto connections = [&] {
    return std::stoi(
        stack_->sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'crowd'")
            .at(0)
            .at(0));
  };
  std::string user = unique("crowd");
  auto token = stack_->new_user_token(user);
  // The user's running replies: how many, and how many follow them.
  auto replies = [&] {
    return stack_->sql(
        "SELECT count(*), coalesce(sum(readers), 0) FROM chat_replies WHERE finished_at IS NULL "
        "AND chat_id IN (SELECT id FROM chats WHERE user_id = '" +
        stack_->user_id(user) + "')")[0];
  };
  std::vector<std::string> headers = {"Coder-Session-Token: " + token,
                                      "Content-Type: application/json"};
  constexpr int kReplies = 3, kFollowers = 8;
  std::string words;
  for (int i = 0; i < 60; ++i) words += "w" + std::to_string(i) + " ";
  json script = {{"steps", {{{"text", words}, {"token_delay_ms", 60}}}}};
  std::string body = json({{"model", "fake-openai"}, {"message", script_message(script)}}).dump();

  std::vector<std::string> chats;
  std::vector<StreamedResponse> originals(kReplies), followers(kReplies * kFollowers);
  std::vector<std::thread> threads;
  for (int r = 0; r < kReplies; ++r) {
    chats.push_back(create_chat(token)["id"]);
    threads.emplace_back([&, r] {
      originals[r] =
          http_stream("POST", crowd.url("/api/v2/chats/" + chats[r] + "/messages"), headers, body);
    });
  }
  ASSERT_TRUE(wait_until([&] { return replies()[0] == std::to_string(kReplies); }, 10s));
  for (int f = 0; f < kReplies * kFollowers; ++f)
    threads.emplace_back([&, f] {
      followers[f] = http_stream(
          "GET", crowd.url("/api/v2/chats/" + chats[f % kReplies] + "/stream"), headers, "");
    });
  bool all_follow =
      wait_until([&] { return replies()[1] == std::to_string(kReplies * kFollowers); }, 10s);
  int most = connections();
  for (auto& t : threads) t.join();
  ASSERT_TRUE(all_follow) << "followers never all joined";
  EXPECT_LE(most, 2 * (2 + 1)) << "connections of the instance while 24 follow";
  for (int f = 0; f < kReplies * kFollowers; ++f) {
    ASSERT_EQ(followers[f].status, 200) << f << followers[f].body;
    EXPECT_EQ(followers[f].lines(), originals[f % kReplies].lines()) << f;
  }
  for (const auto& original : originals)
    EXPECT_EQ(count_prefix(original.lines(), "d:"), 1u) << original.body;
  EXPECT_LE(connections(), 2 * (2 + 1));
}

}  // namespace
}  // namespace chatd::test
