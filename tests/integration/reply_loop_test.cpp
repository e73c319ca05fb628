// The reply loop (DESIGN.md "reply loop") through real nginx: replies run on their worker's
// event loop, not on a request thread each, so one worker with a handful of threads carries
// hundreds at once, and a reader that reads nothing holds up no other.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using json = nlohmann::json;

class ReplyLoop : public ReplyTest {
 protected:
  // Replies at once in the kill and reload tests (fewer in a sanitizer build, several times
  // slower, so that all of them start before the first ones end: 4 s in the reload test).
#ifdef CHATD_SANITIZE_BUILD
  static constexpr int kReplies = 100;
#else
  static constexpr int kReplies = 200;
#endif
  // `n` new chats of `token`, through `instance`.
  static std::vector<std::string> new_chats(const Instance& instance,
                                            const std::vector<std::string>& auth, int n) {
    std::vector<std::string> chats;
    for (int i = 0; i < n; ++i) {
      auto r = http("POST", instance.url("/api/v2/chats"), auth);
      EXPECT_EQ(r.status, 201) << r.body;
      if (r.status == 201) chats.push_back(json::parse(r.body)["id"]);
    }
    return chats;
  }
  // The text of reply `i`: `n` words of its own.
  static std::string words_of(size_t i, int n) {
    std::string text;
    for (int w = 0; w < n; ++w) text += "r" + std::to_string(i) + "w" + std::to_string(w) + " ";
    return text;
  }
  // A reply of `words` words, one every `delay_ms`, to each chat at once, through `instance`.
  static std::vector<std::thread> send_all(const Instance& instance,
                                           const std::vector<std::string>& auth,
                                           const std::vector<std::string>& chats, int words,
                                           int delay_ms, std::vector<StreamedResponse>& out) {
    out.assign(chats.size(), {});
    std::vector<std::thread> clients;
    for (size_t i = 0; i < chats.size(); ++i)
      // Everything by value but `auth` and `out`: the threads outlive this call.
      clients.emplace_back([&auth, &out, i, delay_ms, text = words_of(i, words),
                            url = instance.url("/api/v2/chats/" + chats[i] + "/messages")] {
        json message = {
            {"model", kModels[i % 3]},
            {"message",
             script_message({{"steps", {{{"text", text}, {"token_delay_ms", delay_ms}}}}})}};
        out[i] = http_stream("POST", url, auth, message.dump(), 120s);
      });
    return clients;
  }
  // kReplies replies of `words` words, 100 ms apart, sent at once to new chats of a new user
  // through a new one-worker instance. The provider's idle timeout is the default's order (not
  // the stack's 3 s): hundreds of streams at once load the machine, the fake provider too.
  struct Burst {
    std::unique_ptr<Instance> instance;
    std::vector<std::string> auth;
    std::vector<std::string> chats;
    std::vector<StreamedResponse> responses;
    std::vector<std::thread> clients;
    void join() {
      for (auto& client : clients) client.join();
    }
  };
  std::unique_ptr<Burst> start_burst(const std::string& name, int words) {
    auto burst = std::make_unique<Burst>();
    burst->instance = std::make_unique<Instance>(
        *stack_, name,
        std::vector<std::pair<std::string, std::string>>{{"--workers", "1"},
                                                         {"--max-replies-per-user", "0"},
                                                         {"--upstream-idle-timeout", "30s"}});
    auto token = stack_->new_user_token(unique(name));
    burst->auth = {"Coder-Session-Token: " + token, "Content-Type: application/json"};
    burst->chats = new_chats(*burst->instance, burst->auth, kReplies);
    EXPECT_EQ(burst->chats.size(), size_t{kReplies});
    burst->clients =
        send_all(*burst->instance, burst->auth, burst->chats, words, 100, burst->responses);
    return burst;
  }
  // SQL: the chats as a list for IN (...).
  static std::string in_list(const std::vector<std::string>& chats) {
    std::string list;
    for (const auto& chat : chats) list += (list.empty() ? "'" : ",'") + chat + "'";
    return "(" + list + ")";
  }
  inline static const std::string kHasParts =
      "EXISTS (SELECT FROM chat_reply_parts p WHERE p.chat_id = chat_replies.chat_id)";
  int count(const std::string& where, const std::vector<std::string>& chats) {
    return std::stoi(stack_->sql("SELECT count(*) FROM chat_replies WHERE chat_id IN " +
                                 in_list(chats) + " AND " + where)[0][0]);
  }
  // What chatd logged as gone wrong (each distinct "error" of its log, counted): why replies
  // were not stored, when a test finds that they were not.
  static std::string failures_logged(const Chatd& chatd) {
    std::map<std::string, int> errors;
    for (const auto& entry : log_entries(chatd.log_path())) {
      if (entry.contains("error")) ++errors[entry["error"].dump()];
      if (entry.value("msg", "") == "replies of a dead worker stored as failed")
        errors["recovered as dead: " + entry["replies"].dump()]++;
    }
    std::string out = "chatd logged:";
    for (const auto& [error, n] : errors) out += "\n  " + std::to_string(n) + " × " + error;
    return out;
  }
  // The text of a stream's `0:` parts, and whether it ended with one `d`.
  static std::pair<std::string, bool> text_of(const StreamedResponse& r) {
    std::string text;
    bool ended = false;
    for (const auto& line : r.lines()) {
      if (line.rfind("0:", 0) == 0) text += json::parse(line.substr(2)).get<std::string>();
      ended = line.rfind("d:", 0) == 0;
    }
    return {text, ended};
  }
};

// 500 replies of about 1 s each, all at once, on one worker with 8 request threads (150 in a
// sanitizer build, several times slower). With a thread per reply at most 8 would run at any
// moment; on the loop they overlap, however slow the machine. Beside them, a client that never
// reads a 3 MB reply holds up none of them. The provider's idle timeout is the default's order
// (not the stack's 3 s): the machine is loaded on purpose here.
TEST_F(ReplyLoop, FiveHundredRepliesShareOneWorkerOfEightThreads) {
#ifdef CHATD_SANITIZE_BUILD
  const int n = 150;
#else
  const int n = 500;
#endif
  Instance one(*stack_, "loop500",
               {{"--workers", "1"},
                {"--threads", "8"},
                {"--max-replies-per-user", "0"},
                {"--upstream-idle-timeout", "30s"}});
  auto token = stack_->new_user_token(unique("loop"));
  const std::vector<std::string> auth = {"Coder-Session-Token: " + token,
                                         "Content-Type: application/json"};
  std::vector<std::string> chats;
  for (int i = 0; i < n + 1; ++i) {
    auto r = http("POST", one.url("/api/v2/chats"), auth);
    ASSERT_EQ(r.status, 201) << r.body;
    chats.push_back(json::parse(r.body)["id"]);
  }

  // The deaf reader: its request is sent, its socket never read (a small receive buffer).
  int deaf = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(deaf, 0);
  int small = 4096;
  ::setsockopt(deaf, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(one.nginx->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string deaf_body =
      json({{"model", "fake-openai"},
            {"message", script_message({{"steps",
                                         {{{"text", std::string(1000, 'x') + " "},
                                           {"repeat", 3000},
                                           {"token_delay_ms", 0}}}}})}})
          .dump();
  std::string request =
      "POST /api/v2/chats/" + chats[n] +
      "/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nCoder-Session-Token: " + token +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(deaf_body.size()) +
      "\r\n\r\n" + deaf_body;
  ASSERT_EQ(::connect(deaf, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::send(deaf, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));

  std::vector<StreamedResponse> responses(n);
  std::vector<std::string> expected(n);
  std::vector<std::thread> clients;
  // The most replies running at once (begun, not finished), sampled while they run.
  std::atomic<bool> all_done{false};
  int most_at_once = 0;
  std::thread sampler([&] {
    while (!all_done.load()) {
      most_at_once = std::max(most_at_once, count("finished_at IS NULL", chats));
      std::this_thread::sleep_for(50ms);
    }
  });
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    std::string words = words_of(i, 10);
    expected[i] = words;
    clients.emplace_back([&, i, words] {
      json message = {
          {"model", kModels[i % 3]},
          {"message", script_message({{"steps", {{{"text", words}, {"token_delay_ms", 100}}}}})}};
      responses[i] = http_stream("POST", one.url("/api/v2/chats/" + chats[i] + "/messages"), auth,
                                 message.dump(), 120s);
    });
  }
  for (auto& client : clients) client.join();
  auto took = std::chrono::steady_clock::now() - started;
  all_done.store(true);
  sampler.join();
  ::close(deaf);

  int complete = 0;
  for (int i = 0; i < n; ++i) {
    SCOPED_TRACE("reply " + std::to_string(i));
    ASSERT_EQ(responses[i].status, 200) << responses[i].error << responses[i].body;
    auto [text, ended] = text_of(responses[i]);
    EXPECT_EQ(text, expected[i]);
    EXPECT_TRUE(ended) << responses[i].body;
    complete += text == expected[i] && ended;
  }
  EXPECT_EQ(complete, n);
  // On 8 threads, one reply each at a time, no more than 8 (and the deaf one) could run at
  // once; on the loop they overlap.
  EXPECT_GE(most_at_once, 32) << "the replies did not overlap (" << n << " took "
                              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                              << " ms)";
  // Stored as streamed: a sample, rebuilt by the AI SDK's own client.
  for (int i : {0, n / 2, n - 1}) {
    auto stored = messages(token, chats[i]);
    ASSERT_EQ(stored.size(), 2u);
    expect_stored_as_rebuilt(responses[i], stored[1]);
  }
}

// Streams started one after another, each once the last one runs, spread over the workers'
// loops: the first worker's idle threads, first in the kernel's queue, would otherwise take
// every one, and its one loop carry them all while the other worker's stays idle.
TEST_F(ReplyLoop, StreamsStartedOneByOneSpreadOverTheWorkers) {
  const int n = 24;
  Instance two(*stack_, "loopspread",
               {{"--workers", "2"}, {"--threads", "4"}, {"--max-replies-per-user", "0"}});
  auto token = stack_->new_user_token(unique("spread"));
  std::vector<std::string> auth = {"Coder-Session-Token: " + token,
                                   "Content-Type: application/json"};
  auto chats = new_chats(two, auth, n);
  ASSERT_EQ(chats.size(), size_t{n});
  std::vector<StreamedResponse> responses(n);
  std::vector<std::thread> clients;
  for (int i = 0; i < n; ++i) {
    clients.emplace_back([&, i] {
      json message = {
          {"model", "fake-openai"},
          {"message",
           script_message({{"steps", {{{"text", words_of(i, 60)}, {"token_delay_ms", 100}}}}})}};
      responses[i] = http_stream("POST", two.url("/api/v2/chats/" + chats[i] + "/messages"), auth,
                                 message.dump(), 60s);
    });
    // (Not ASSERT: the client threads must be joined.)
    if (!wait_until([&] { return count("finished_at IS NULL", chats) == i + 1; }, 10s)) {
      ADD_FAILURE() << "reply " << i << " did not start";
      break;
    }
  }
  // The claim (the row counted above) comes before the reply goes live on a loop: wait until
  // the scoreboard shows every one running.
  HttpResponse r;
  std::vector<int> running;
  wait_until(
      [&] {
        r = http("GET", two.url("/status"));
        running.clear();
        if (r.status != 200) return false;
        json status = json::parse(r.body);
        for (const auto& w : status["workers"]) running.push_back(w["replies_running"].get<int>());
        return running.size() == 2 && running[0] + running[1] == n;
      },
      10s);
  for (auto& client : clients) client.join();
  ASSERT_EQ(r.status, 200) << r.error;
  ASSERT_EQ(running.size(), 2u) << r.body;
  EXPECT_EQ(running[0] + running[1], n) << r.body;
  EXPECT_GE(std::min(running[0], running[1]), n / 4) << r.body;
  for (const auto& response : responses) EXPECT_TRUE(text_of(response).second) << response.body;
}

// The database drops the connection a checkpoint runs on (a restart, a failover): that
// checkpoint's parts wait for the next one, so the reply's record, which readers replay, and
// its stored message are what was streamed. A
// trigger ends the backend of the first checkpoint with text, once (a sequence is not rolled
// back with its statement).
TEST_F(ReplyLoop, ACheckpointOnALostConnectionKeepsItsPartsForTheNext) {
  auto token = stack_->new_user_token(unique("lostdb"));
  std::string chat = create_chat(token)["id"];
  stack_->sql(R"(
    CREATE SEQUENCE lose_checkpoint_once;
    CREATE OR REPLACE FUNCTION lose_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.chat_id = ')" +
              chat + R"(' AND NEW.parts LIKE '%0:%'
         AND nextval('lose_checkpoint_once') = 1 THEN
        PERFORM pg_terminate_backend(pg_backend_pid());
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER lose_checkpoint BEFORE INSERT OR UPDATE ON chat_reply_parts
      FOR EACH ROW EXECUTE FUNCTION lose_checkpoint();)");
  auto r =
      send(token, chat, "fake-openai",
           script_message({{"steps", {{{"text", words_of(0, 40)}, {"token_delay_ms", 100}}}}}));
  auto fired = stack_->sql("SELECT is_called FROM lose_checkpoint_once");
  auto record = stack_->sql(
      "SELECT string_agg(parts, '' ORDER BY at) FROM chat_reply_parts WHERE chat_id = '" + chat +
      "'");
  stack_->sql(
      "DROP TRIGGER lose_checkpoint ON chat_reply_parts; DROP FUNCTION lose_checkpoint(); "
      "DROP SEQUENCE lose_checkpoint_once;");
  EXPECT_EQ(fired.at(0).at(0), "t") << "no checkpoint lost its connection";
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(count_prefix(r.lines(), "d:"), 1u) << r.body;
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1]["content"], words_of(0, 40));
  expect_stored_as_rebuilt(r, stored[1]);
  // What a reader replays (GET …/stream) is every part, those of the lost checkpoint too.
  std::string streamed;
  for (const auto& line : r.lines()) streamed += line + "\n";
  ASSERT_EQ(record.size(), 1u);
  EXPECT_EQ(record[0][0], streamed);
}

// kill -9 of a worker with kReplies replies on its loop: the replies' heartbeats stop with it, and
// recovery (any worker, any host) stores every one as failed and frees its chat within 10 s.
TEST_F(ReplyLoop, AKilledWorkerWithHundredsOfRepliesLeavesNoneStuck) {
  // 30 s each: however slowly a busy machine starts them, the first still run when the last
  // begin (the kill ends them all as soon as they do).
  auto burst = start_burst("loopkill", 300);
  const auto& chats = burst->chats;
  // Killed once (nearly) every reply runs and has been checkpointed.
  bool checkpointed = wait_until(
      [&] { return count("finished_at IS NULL AND " + kHasParts, chats) >= kReplies - 5; }, 60s,
      100ms);
  int with_text = count(
      "finished_at IS NULL AND EXISTS (SELECT FROM chat_reply_parts p WHERE p.chat_id = "
      "chat_replies.chat_id AND p.parts LIKE '%0:\"%')",
      chats);
  auto workers = burst->instance->chatd->worker_pids();
  ASSERT_EQ(workers.size(), 1u);
  ASSERT_EQ(::kill(workers[0], SIGKILL), 0);
  auto killed = std::chrono::steady_clock::now();
  burst->join();
  ASSERT_TRUE(checkpointed) << count("finished_at IS NULL AND " + kHasParts, chats);
  ASSERT_TRUE(wait_until([&] { return count("finished_at IS NULL", chats) == 0; }, 15s, 100ms))
      << count("finished_at IS NULL", chats) << " still running";
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 10s);
  auto failed = stack_->sql(
      "SELECT count(*) FROM chat_messages WHERE finish_reason = 'error' AND "
      "content->>'role' = 'assistant' AND chat_id IN " +
      in_list(chats));
  // Every one with text checkpointed, stored as failed (one with none leaves no message).
  EXPECT_GE(std::stoi(failed.at(0).at(0)), with_text);
}

// SIGHUP replaces the workers one by one while kReplies replies run on the old worker's loop: the
// old worker drains, its replies end whole, new requests go to the new worker.
TEST_F(ReplyLoop, AReloadDuringHundredsOfRepliesDropsNone) {
  auto burst = start_burst("loophup", 80);  // 8 s each
  const auto& chats = burst->chats;
  auto& chatd = *burst->instance->chatd;
  // The reload once (nearly) every reply has begun; most of them still run then, however slowly
  // a busy machine started them.
  bool started = wait_until([&] { return count("true", chats) >= kReplies - 5; }, 30s, 50ms);
  int running = count("finished_at IS NULL", chats);
  auto before = chatd.worker_pids();
  ASSERT_EQ(::kill(chatd.master().pid(), SIGHUP), 0);
  burst->join();
  ASSERT_TRUE(started);
  ASSERT_GE(running, kReplies / 2);
  // None was cut: every stream ends with its `d`, and what is stored is what was streamed.
  std::map<std::string, std::string> stored;
  for (const auto& row : stack_->sql("SELECT chat_id, content->>'content' FROM chat_messages "
                                     "WHERE content->>'role' = 'assistant' AND chat_id IN " +
                                     in_list(chats)))
    stored[row.at(0)] = row.at(1);
  int whole = 0;
  for (size_t i = 0; i < chats.size(); ++i) {
    const auto& response = burst->responses[i];
    auto [text, ended] = text_of(response);
    EXPECT_EQ(response.status, 200) << response.error;
    EXPECT_TRUE(ended) << i << ": " << response.body;
    EXPECT_EQ(stored[chats[i]], text) << i;
    whole += ended && stored[chats[i]] == text && !text.empty();
  }
  EXPECT_EQ(whole, kReplies) << failures_logged(chatd);
  ASSERT_TRUE(wait_until([&] { return chatd.worker_pids() != before; }, 20s));
}

}  // namespace
}  // namespace chatd::test
