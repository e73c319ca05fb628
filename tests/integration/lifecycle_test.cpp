// The reply lifecycle across processes (API.md §7): two chatd instances (A: the shared stack,
// on-disconnect continue; B: a second master on its own socket and nginx, on-disconnect stop)
// share one PostgreSQL. Interrupts, readers, the one-reply rule and idempotent sends must work
// from either; a killed worker's reply must not be lost or leave its chat stuck.
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// What a streaming client has received so far, for another thread to wait on (its observer
// goes where http_stream takes a hang_up callback, and never hangs up).
class Received {
 public:
  std::function<bool(const std::string&)> observer() {
    return [this](const std::string& body) {
      std::lock_guard lock(mutex_);
      body_ = body;
      return false;
    };
  }
  bool has(const std::string& text) {
    std::lock_guard lock(mutex_);
    return body_.find(text) != std::string::npos;
  }

 private:
  std::mutex mutex_;
  std::string body_;
};

class Lifecycle : public ReplyTest {
 protected:
  void SetUp() override {
    ReplyTest::SetUp();
    if (IsSkipped()) return;
    if (!b_)
      // The upstream idle timeout is longer than the shared stack's 3 s: a title may keep B's
      // replies waiting past the 5 s after which recovery takes a reply without a heartbeat
      // for dead.
      b_ = std::make_unique<Instance>(
          *stack_, "b",
          std::vector<std::pair<std::string, std::string>>{{"--on-disconnect", "stop"},
                                                           {"--upstream-idle-timeout", "20s"}});
  }
  static void TearDownTestSuite() { b_.reset(); }

  std::string b_url(const std::string& path) const { return b_->url(path); }

  // A reply of `n` words, one every `delay_ms`.
  static json slow_script(int n, int delay_ms, const std::string& id = "") {
    std::string words;
    for (int i = 0; i < n; ++i) words += "w" + std::to_string(i) + " ";
    return {{"id", id}, {"steps", {{{"text", words}, {"token_delay_ms", delay_ms}}}}};
  }
  static std::string body(const json& script) {
    return json({{"model", "fake-openai"}, {"message", script_message(script)}}).dump();
  }
  static std::vector<std::string> auth(const std::string& token) {
    return {"Coder-Session-Token: " + token, "Content-Type: application/json"};
  }
  std::string status(const std::string& token, const std::string& chat) {
    return json::parse(call("GET", "/api/v2/chats/" + chat, token).body)["status"];
  }
  // Whether the checkpointed parts of the chat's reply contain `text`: what recovery would store.
  // (No row yet, before the reply is claimed: not yet.)
  bool checkpointed(const std::string& chat, const std::string& text) {
    return stack_->sql("SELECT count(*) FROM chat_reply_parts WHERE strpos(parts, '" + text +
                       "') > 0 AND chat_id = '" + chat + "'")[0][0] == "1";
  }
  bool running(const std::string& chat) {
    return stack_->sql(
               "SELECT count(*) FROM chat_replies WHERE finished_at IS NULL AND chat_id = '" +
               chat + "'")[0][0] == "1";
  }
  // A reply of `script` to `chat`, streamed into `out` on a thread of its own (to join);
  // returns once the reply runs.
  std::thread start_reply(const std::string& token, const std::string& chat, const json& script,
                          StreamedResponse& out) {
    std::thread client([url = stack_->url("/api/v2/chats/" + chat + "/messages"),
                        headers = auth(token), request = body(script),
                        &out] { out = http_stream("POST", url, headers, request); });
    EXPECT_TRUE(wait_until([&] { return running(chat); }, 5s)) << "the reply did not start";
    return client;
  }

  static inline std::unique_ptr<Instance> b_;

  // Holds a user's claim lock (chatd_claim_reply) until release(): a POST of theirs waits just
  // before its claim.
  class ClaimLock {
   public:
    ClaimLock(Stack& stack, const std::string& user_id)
        : stack_(stack), conn_(stack.postgres->url()), hold_(conn_) {
      hold_.exec("SELECT pg_advisory_xact_lock(hashtextextended('chatd_user_" + user_id + "', 0))");
    }
    // Whether a request came to wait on it within 10 s.
    bool waited_on() {
      return wait_until(
          [&] {
            return stack_.sql(
                       "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                       "NOT granted")[0][0] != "0";
          },
          10s);
    }
    void release() { hold_.commit(); }

   private:
    Stack& stack_;
    pqxx::connection conn_;
    pqxx::work hold_;
  };
};

TEST_F(Lifecycle, DisconnectWithContinueStoresTheWholeReply) {
  auto token = stack_->new_user_token(unique("continue"));
  std::string chat = create_chat(token)["id"];
  http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), auth(token),
              body(slow_script(20, 100)), 60s,
              [](const std::string& b) { return b.find("w2\"") != std::string::npos; });
  EXPECT_EQ(status(token, chat), "running");
  ASSERT_TRUE(wait_until([&] { return !running(chat); }, 15s));
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_NE(stored[1]["content"].get<std::string>().find("w19"), std::string::npos)
      << stored[1]["content"];
  EXPECT_EQ(stored[1]["finish_reason"], "stop");
  EXPECT_FALSE(stored[1].contains("interrupted")) << "a reply that ran to its end";
  EXPECT_EQ(status(token, chat), "idle");
}

TEST_F(Lifecycle, DisconnectWithStopStoresThePartialReplyWithinASecond) {
  auto token = stack_->new_user_token(unique("stop"));
  std::string chat = create_chat(token)["id"];
  http_stream("POST", b_url("/api/v2/chats/" + chat + "/messages"), auth(token),
              body(slow_script(40, 150)), 60s,
              [](const std::string& b) { return b.find("w2\"") != std::string::npos; });
  auto left = Clock::now();
  ASSERT_TRUE(wait_until([&] { return !running(chat); }, 5s));
  EXPECT_LT(Clock::now() - left, 1500ms);
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u);
  std::string content = stored[1]["content"];
  EXPECT_NE(content.find("w2"), std::string::npos);
  EXPECT_EQ(content.find("w30"), std::string::npos) << content;
  auto reason = stack_->sql("SELECT finish_reason FROM chat_messages WHERE chat_id = '" + chat +
                            "' AND content->>'role' = 'assistant'");
  EXPECT_EQ(reason.at(0).at(0), "stop");
  EXPECT_EQ(stored[1]["finish_reason"], "stop");
  EXPECT_EQ(stored[1]["interrupted"], true);
}

TEST_F(Lifecycle, InterruptThroughBStopsAReplyStreamingFromA) {
  auto token = stack_->new_user_token(unique("interrupt"));
  std::string chat = create_chat(token)["id"];
  EXPECT_EQ(http("POST", b_url("/api/v2/chats/" + chat + "/interrupt"), auth(token)).status, 204)
      << "nothing running is still a 204";
  Clock::time_point interrupted_at;
  StreamedResponse r;
  Received received;
  std::thread streaming([&] {
    r = http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), auth(token),
                    body(slow_script(40, 150)), 60s, received.observer());
  });
  // A few words through: the partial reply has text.
  ASSERT_TRUE(wait_until([&] { return received.has("w3"); }, 5s));
  auto interrupt = http("POST", b_url("/api/v2/chats/" + chat + "/interrupt"), auth(token));
  interrupted_at = Clock::now();
  EXPECT_EQ(interrupt.status, 204);
  streaming.join();
  auto ended = r.chunks.empty() ? Clock::now() : r.chunks.back().at;
  EXPECT_LT(ended - interrupted_at, 1s) << "the stream did not end within 1 s";
  auto lines = r.lines();
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines.back().rfind("d:{\"finishReason\":\"stop\"", 0), 0u) << r.body;
  EXPECT_EQ(lines[lines.size() - 2].rfind("e:{\"finishReason\":\"stop\"", 0), 0u) << r.body;
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u);
  expect_stored_as_rebuilt(r, stored[1]);
  EXPECT_EQ(stored[1]["content"].get<std::string>().find("w39"), std::string::npos);
  EXPECT_EQ(stored[1]["finish_reason"], "stop");
  EXPECT_EQ(stored[1]["interrupted"], true);
  EXPECT_EQ(status(token, chat), "idle");
  // Only the owner may interrupt.
  auto other = stack_->new_user_token(unique("intruder"));
  EXPECT_EQ(http("POST", b_url("/api/v2/chats/" + chat + "/interrupt"), auth(other)).status, 404);
}

// DELETE through B while the chat's reply streams from A, with a reader following it on B
// (API.md §8): the reply stops, both streams end within a second, and nothing of the chat is
// left or written again by the reply's worker.
TEST_F(Lifecycle, DeleteStopsAReplyRunningOnAnotherInstanceAndLeavesNothing) {
  auto token = stack_->new_user_token(unique("deleting"));
  std::string chat = create_chat(token)["id"];
  StreamedResponse r, follower;
  Received received;
  std::thread streaming([&] {
    r = http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), auth(token),
                    body(slow_script(40, 150)), 60s, received.observer());
  });
  ASSERT_TRUE(wait_until([&] { return received.has("w3"); }, 5s));
  std::thread following([&] {
    follower = http_stream("GET", b_url("/api/v2/chats/" + chat + "/stream"), auth(token), "");
  });
  ASSERT_TRUE(wait_until(
      [&] {
        return stack_->sql("SELECT readers FROM chat_replies WHERE chat_id = '" + chat + "'")
                   .at(0)
                   .at(0) == "1";
      },
      5s));
  auto deleted = http("DELETE", b_url("/api/v2/chats/" + chat), auth(token));
  auto deleted_at = Clock::now();
  EXPECT_EQ(deleted.status, 204);
  streaming.join();
  following.join();
  EXPECT_LT(r.chunks.back().at - deleted_at, 1s) << "the reply's stream did not end within 1 s";
  EXPECT_LT(follower.chunks.back().at - deleted_at, 1s) << "the reader did not end within 1 s";
  auto lines = r.lines();
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines.back().rfind("d:{\"finishReason\":\"stop\"", 0), 0u) << r.body;
  EXPECT_EQ(follower.lines().back(), "3:\"The chat was deleted.\"") << follower.body;
  EXPECT_EQ(r.body.find("w39"), std::string::npos);
  // The reply's worker stored its end before its stream ended: nothing came back.
  for (const char* table : {"chats WHERE id", "chat_messages WHERE chat_id",
                            "chat_replies WHERE chat_id", "idempotency_keys WHERE chat_id"})
    EXPECT_EQ(stack_->sql(std::string("SELECT count(*) FROM ") + table + " = '" + chat + "'")[0][0],
              "0")
        << table;
  EXPECT_EQ(call("GET", "/api/v2/chats/" + chat, token).status, 404);
}

// GET /api/v2/chats/watch on A hears, within a second each, the changes made through B: a chat
// created, renamed, archived, running and idle again with its generated title, deleted. Another
// user's watcher hears none of them.
TEST_F(Lifecycle, AWatcherHearsEveryChangeMadeOnTheOtherInstance) {
  auto token = stack_->new_user_token(unique("watcher"));
  auto stranger = stack_->new_user_token(unique("stranger"));
  std::mutex mutex;
  std::string events, stranger_events;
  auto watch = [&](const std::string& t, std::string& into) {
    return http_stream("GET", stack_->url("/api/v2/chats/watch"), auth(t), "", 60s,
                       [&](const std::string& body) {
                         std::lock_guard lock(mutex);
                         into = body;
                         return body.find("\"kind\":\"deleted\"") != std::string::npos ||
                                body.find("stop watching") != std::string::npos;
                       });
  };
  StreamedResponse watched, strangers;
  std::thread watching([&] { watched = watch(token, events); });
  std::thread other([&] { strangers = watch(stranger, stranger_events); });
  // A watch opens with a comment, sent once it listens: from then on nothing is missed.
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return events.rfind(": watching\n\n", 0) == 0 &&
               stranger_events.rfind(": watching", 0) == 0;
      },
      5s));
  // Each change, then its event within a second.
  auto heard = [&](const std::string& text) {
    EXPECT_TRUE(wait_until(
        [&] {
          std::lock_guard lock(mutex);
          return events.find(text) != std::string::npos;
        },
        1s))
        << "not heard within 1 s: " << text << "\n"
        << events;
  };
  std::string chat = json::parse(http("POST", b_url("/api/v2/chats"), auth(token)).body)["id"];
  heard("\"kind\":\"created\",\"chat\":{\"id\":\"" + chat + "\"");
  EXPECT_EQ(
      http("PATCH", b_url("/api/v2/chats/" + chat), auth(token), R"({"title":"Renamed"})").status,
      204);
  heard("\"kind\":\"title_change\",\"chat\":{\"id\":\"" + chat + "\"");
  heard("\"title\":\"Renamed\"");
  EXPECT_EQ(
      http("PATCH", b_url("/api/v2/chats/" + chat), auth(token), R"({"archived":true})").status,
      204);
  heard("\"kind\":\"updated\",\"chat\":{\"id\":\"" + chat + "\"");
  heard("\"archived\":true");
  auto reply = http_stream("POST", b_url("/api/v2/chats/" + chat + "/messages"), auth(token),
                           body(slow_script(3, 10)));
  EXPECT_EQ(reply.status, 200);
  heard("\"status\":\"running\"");
  heard("\"kind\":\"status_change\",\"chat\":{\"id\":\"" + chat + "\"");
  heard("\"status\":\"idle\"");
  EXPECT_EQ(http("DELETE", b_url("/api/v2/chats/" + chat), auth(token)).status, 204);
  heard("\"kind\":\"deleted\",\"chat\":{\"id\":\"" + chat + "\"}");
  watching.join();  // the client hung up once it heard "deleted"
  EXPECT_EQ(watched.header("content-type"), "text/event-stream");
  // Every event is one `data:` line and a blank line.
  for (const auto& line : watched.lines())
    EXPECT_TRUE(line.empty() || line == ": watching" || line.rfind("data: {\"kind\":", 0) == 0)
        << line;
  // The stranger heard nothing of it; its watch ends when its own chat goes.
  std::string own = json::parse(http("POST", b_url("/api/v2/chats"), auth(stranger)).body)["id"];
  EXPECT_EQ(http("DELETE", b_url("/api/v2/chats/" + own), auth(stranger)).status, 204);
  other.join();
  EXPECT_EQ(strangers.body.find(chat), std::string::npos) << strangers.body;
}

// An interrupt that arrives while the POST is still on its way to its claim, when nothing runs
// yet (API.md §7: 204 either way), stops that reply all the same: the interrupt wins.
TEST_F(Lifecycle, AnInterruptBeforeTheClaimStillWins) {
  std::string user = unique("early");
  auto token = stack_->new_user_token(user);
  std::string chat = create_chat(token)["id"];
  ClaimLock lock(*stack_, stack_->user_id(user));
  StreamedResponse r;
  std::thread posting([&] {
    r = http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), auth(token),
                    body(slow_script(20, 50)));
  });
  ASSERT_TRUE(lock.waited_on());
  EXPECT_EQ(http("POST", b_url("/api/v2/chats/" + chat + "/interrupt"), auth(token)).status, 204);
  lock.release();  // the POST goes on to its claim
  posting.join();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("w0"), std::string::npos) << "the reply ran: " << r.body;
  EXPECT_EQ(count_prefix(r.lines(), "d:"), 1u) << r.body;
  EXPECT_EQ(status(token, chat), "idle");
  EXPECT_EQ(messages(token, chat).size(), 1u) << "only the user's message";
  // A message sent after the interrupt runs as usual.
  auto next = http_stream("POST", b_url("/api/v2/chats/" + chat + "/messages"), auth(token),
                          body(slow_script(3, 10)));
  EXPECT_NE(next.body.find("w2"), std::string::npos) << next.body;
}

// A chat deleted while a POST to it is on its way to its claim: the POST gets the 404 of a
// chat that is not there (not a 500), and nothing is stored.
TEST_F(Lifecycle, APostToAChatDeletedBeforeItsClaimIs404) {
  std::string user = unique("deletedearly");
  auto token = stack_->new_user_token(user);
  std::string chat = create_chat(token)["id"];
  ClaimLock lock(*stack_, stack_->user_id(user));
  StreamedResponse r;
  std::thread posting([&] {
    r = http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), auth(token),
                    body(slow_script(20, 50)));
  });
  ASSERT_TRUE(lock.waited_on());
  EXPECT_EQ(http("DELETE", b_url("/api/v2/chats/" + chat), auth(token)).status, 204);
  lock.release();  // the POST goes on to its claim
  posting.join();
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(json::parse(r.body)["message"],
            "Resource not found or you do not have access to this resource");
  EXPECT_EQ(stack_->sql("SELECT count(*) FROM chat_messages WHERE chat_id = '" + chat + "'")[0][0],
            "0");
}

TEST_F(Lifecycle, AReaderThroughBGetsTheReplyFromItsFirstPart) {
  auto token = stack_->new_user_token(unique("reader"));
  std::string chat = create_chat(token)["id"];
  auto idle = http("GET", b_url("/api/v2/chats/" + chat + "/stream"), auth(token));
  EXPECT_EQ(idle.status, 204);
  StreamedResponse original, follower, skipping;
  Received received;
  std::thread streaming([&] {
    original = http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), auth(token),
                           body(slow_script(16, 100)), 60s, received.observer());
  });
  ASSERT_TRUE(wait_until([&] { return received.has("w4"); }, 5s));  // attach mid-reply
  std::thread second([&] {
    skipping =
        http_stream("GET", b_url("/api/v2/chats/" + chat + "/stream?after=3"), auth(token), "");
  });
  follower = http_stream("GET", b_url("/api/v2/chats/" + chat + "/stream"), auth(token), "");
  second.join();
  streaming.join();
  ASSERT_EQ(follower.status, 200);
  EXPECT_EQ(follower.header("x-vercel-ai-data-stream"), "v1");
  // The follower got the same parts as the original client, in order, from the first `f`.
  EXPECT_EQ(follower.lines(), original.lines()) << follower.body;
  auto expected = original.lines();
  expected.erase(expected.begin(), expected.begin() + 3);
  EXPECT_EQ(skipping.lines(), expected);
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u);
  expect_stored_as_rebuilt(follower, stored[1]);
  EXPECT_EQ(http("GET", b_url("/api/v2/chats/" + chat + "/stream"), auth(token)).status, 204);
}

// One reply has at most max-readers-per-reply readers (8 on this stack), across instances; one
// more gets 429, and a place that frees up can be taken again.
TEST_F(Lifecycle, OnlySoManyReadersFollowOneReply) {
  constexpr int kMaxReaders = 8;
  auto token = stack_->new_user_token(unique("readers"));
  std::string chat = create_chat(token)["id"];
  StreamedResponse original;
  std::thread streaming = start_reply(token, chat, slow_script(80, 100), original);
  auto readers = [&] {
    return std::stoi(stack_
                         ->sql("SELECT readers FROM chat_replies WHERE finished_at IS NULL "
                               "AND chat_id = '" +
                               chat + "'")
                         .at(0)
                         .at(0));
  };
  std::vector<StreamedResponse> followers(kMaxReaders);
  std::vector<std::thread> threads;
  std::atomic<bool> leave_first{false};
  for (int i = 0; i < kMaxReaders; ++i) {
    // Half through each instance; the first one hangs up when told to.
    std::string url = (i % 2 ? b_url("") : stack_->url("")) + "/api/v2/chats/" + chat + "/stream";
    threads.emplace_back([&, i, url] {
      followers[i] = http_stream("GET", url, auth(token), "", 60s, [&, i](const std::string&) {
        return i == 0 && leave_first.load();
      });
    });
  }
  ASSERT_TRUE(wait_until([&] { return readers() == kMaxReaders; }, 10s)) << readers();
  auto refused = http("GET", b_url("/api/v2/chats/" + chat + "/stream"), auth(token));
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.header("retry-after"), "5");
  EXPECT_EQ(json::parse(refused.body)["message"],
            "Too many readers follow this reply; try again when one has left.");

  leave_first = true;
  ASSERT_TRUE(wait_until([&] { return readers() < kMaxReaders; }, 10s)) << readers();
  auto late = http_stream("GET", stack_->url("/api/v2/chats/" + chat + "/stream"), auth(token), "");
  for (auto& t : threads) t.join();
  streaming.join();
  ASSERT_EQ(original.status, 200);
  EXPECT_EQ(late.status, 200);
  EXPECT_EQ(late.lines(), original.lines());
  for (int i = 1; i < kMaxReaders; ++i) EXPECT_EQ(followers[i].lines(), original.lines()) << i;
}

TEST_F(Lifecycle, TwoSimultaneousPostsOneWins) {
  auto token = stack_->new_user_token(unique("race"));
  for (int round = 0; round < 3; ++round) {
    std::string chat = create_chat(token)["id"];
    StreamedResponse a, b;
    // Replies of 2 s: the two requests overlap even when a loaded machine delays one of them.
    std::thread ta([&] {
      a = http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), auth(token),
                      body(slow_script(20, 100)));
    });
    std::thread tb([&] {
      b = http_stream("POST", b_url("/api/v2/chats/" + chat + "/messages"), auth(token),
                      body(slow_script(20, 100)));
    });
    ta.join();
    tb.join();
    std::multiset<long> statuses = {a.status, b.status};
    EXPECT_EQ(statuses, (std::multiset<long>{200, 409})) << a.body << " / " << b.body;
    EXPECT_EQ(messages(token, chat).size(), 2u);
  }
}

TEST_F(Lifecycle, IdempotentSendsNeverPayTwice) {
  auto token = stack_->new_user_token(unique("idem"));
  std::string chat = create_chat(token)["id"];
  std::string request = body(slow_script(12, 100, "idempotent-" + chat));
  auto with_key = auth(token);
  with_key.push_back("Idempotency-Key: retry-1");
  auto provider_calls = [&] {
    std::ifstream log(stack_->dir + "/fake/requests.log");
    std::string line;
    int n = 0;
    while (std::getline(log, line)) n += line.find("\"scenario\":\"script\"") != std::string::npos;
    return n;
  };
  int calls_before = provider_calls();
  StreamedResponse first, repeat;
  std::thread ta([&] {
    first =
        http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), with_key, request);
  });
  ASSERT_TRUE(wait_until([&] { return running(chat); }, 5s));
  repeat = http_stream("POST", b_url("/api/v2/chats/" + chat + "/messages"), with_key, request);
  ta.join();
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(repeat.status, 200);
  EXPECT_EQ(provider_calls() - calls_before, 1) << "the repeat called the provider";
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u) << "a second user message was stored";
  auto a = json::parse(rebuild_with_ai_sdk(first.body))["message"];
  auto b = json::parse(rebuild_with_ai_sdk(repeat.body))["message"];
  a.erase("createdAt");
  b.erase("createdAt");
  EXPECT_EQ(a, b);
  expect_stored_as_rebuilt(first, stored[1]);

  // After it finished: 409 with the assistant message's id; another body: 422.
  auto again = http("POST", b_url("/api/v2/chats/" + chat + "/messages"), with_key, request);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(json::parse(again.body),
            json({{"message", "This message was already sent."}, {"detail", stored[1]["id"]}}));
  auto other = http("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), with_key,
                    body(slow_script(3, 10, "something else")));
  EXPECT_EQ(other.status, 422);
  EXPECT_EQ(other.body, R"({"message":"Idempotency-Key reused with a different request."})");
  EXPECT_EQ(messages(token, chat).size(), 2u);
}

// A POST whose message cannot be stored fails, and its key does not stay used up: the client's
// retry with the same key and body starts the reply (it used to get 409 "already sent", with
// the id of a message that never existed, for 24 hours).
TEST_F(Lifecycle, AKeyWhoseMessageWasNotStoredCanBeRetried) {
  auto token = stack_->new_user_token(unique("idem-fail"));
  std::string chat = create_chat(token)["id"];
  const std::string marker = "refuse-insert-" + chat;
  stack_->sql(
      "CREATE FUNCTION test_refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "IF NEW.content::text LIKE '%" +
      marker +
      "%' THEN RAISE EXCEPTION 'refused by the test'; "
      "END IF; RETURN NEW; END $$");
  stack_->sql(
      "CREATE TRIGGER test_refuse BEFORE INSERT ON chat_messages FOR EACH ROW "
      "EXECUTE FUNCTION test_refuse_marked()");
  struct DropTrigger {
    Stack* stack;
    ~DropTrigger() {
      stack->sql("DROP TRIGGER IF EXISTS test_refuse ON chat_messages");
      stack->sql("DROP FUNCTION IF EXISTS test_refuse_marked()");
    }
  } drop{stack_};
  std::string request = body({{"id", marker}, {"steps", {{{"text", "stored at last"}}}}});
  auto with_key = auth(token);
  with_key.push_back("Idempotency-Key: retry-after-failure");
  auto failed = http("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), with_key, request);
  EXPECT_GE(failed.status, 500) << failed.body;
  EXPECT_EQ(failed.body.find("refused by the test"), std::string::npos) << "database detail leaked";
  EXPECT_EQ(messages(token, chat).size(), 0u);
  EXPECT_EQ(status(token, chat), "idle");

  stack_->sql("DROP TRIGGER test_refuse ON chat_messages");
  auto retried =
      http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), with_key, request);
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(count_prefix(retried.lines(), "d:"), 1u) << retried.body;
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1]["content"], "stored at last");
}

// A keyed POST to a chat whose reply still runs gets 409 and keeps no key: once that reply
// ended, the same request with the same key starts its reply.
TEST_F(Lifecycle, AKeyRefusedBecauseTheChatWasBusyIsNotKept) {
  auto token = stack_->new_user_token(unique("idem-busy"));
  std::string chat = create_chat(token)["id"];
  StreamedResponse first;
  std::thread ta = start_reply(token, chat, slow_script(10, 100), first);
  auto with_key = auth(token);
  with_key.push_back("Idempotency-Key: while-busy");
  std::string request = body(slow_script(2, 10, "keyed-" + chat));
  auto busy = http("POST", b_url("/api/v2/chats/" + chat + "/messages"), with_key, request);
  ta.join();
  EXPECT_EQ(busy.status, 409) << busy.body;
  EXPECT_EQ(json::parse(busy.body)["message"], "A reply is already being generated for this chat.");
  EXPECT_EQ(stack_->sql("SELECT count(*) FROM idempotency_keys WHERE key = 'while-busy'")[0][0],
            "0");
  ASSERT_EQ(first.status, 200);
  auto retried =
      http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), with_key, request);
  EXPECT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(count_prefix(retried.lines(), "d:"), 1u) << retried.body;
  EXPECT_EQ(messages(token, chat).size(), 4u);
}

// A title that is still coming when the reply's text is done gets its wait, and the reply
// stays alive meanwhile: its heartbeat goes on, so no worker's recovery (after 5 s without
// one) takes it for dead and finishes it in its place — which lost the whole message.
TEST_F(Lifecycle, ASlowTitleKeepsTheReplyAliveUntilItArrives) {
  auto token = stack_->new_user_token(unique("slow-title"));
  std::string chat = create_chat(token)["id"];
  json script = {{"steps", {{{"text", "short answer"}, {"token_delay_ms", 10}}}},
                 {"title", "Patient title"},
                 {"title_delay_ms", 8000}};
  auto r =
      http_stream("POST", b_url("/api/v2/chats/" + chat + "/messages"), auth(token), body(script));
  ASSERT_EQ(r.status, 200) << r.error;
  auto lines = r.lines();
  EXPECT_GE(r.time_to("chat-title").count(), 7900);
  EXPECT_LT(r.body.find("Patient title"), r.body.find("d:{")) << r.body;
  EXPECT_EQ(lines.back().rfind("d:{\"finishReason\":\"stop\"", 0), 0u) << r.body;
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u) << "the reply was lost";
  EXPECT_EQ(stored[1]["content"], "short answer");
  expect_stored_as_rebuilt(r, stored[1]);
  auto reason = stack_->sql("SELECT finish_reason FROM chat_messages WHERE chat_id = '" + chat +
                            "' AND content->>'role' = 'assistant'");
  EXPECT_EQ(reason.at(0).at(0), "stop");
  EXPECT_EQ(json::parse(call("GET", "/api/v2/chats/" + chat, token).body)["title"],
            "Patient title");
}

TEST_F(Lifecycle, OneUserMayRunOnlySoManyRepliesAtOnce) {
  // This stack allows 6 running replies per user (max-replies-per-user).
  auto name = unique("greedy");
  auto token = stack_->new_user_token(name);
  std::vector<std::string> chats;
  for (int i = 0; i < 7; ++i) chats.push_back(create_chat(token)["id"]);
  std::vector<std::thread> running;
  for (int i = 0; i < 6; ++i) {
    running.emplace_back([&, i] {
      http_stream("POST", stack_->url("/api/v2/chats/" + chats[i] + "/messages"), auth(token),
                  body(slow_script(10, 100)));
    });
  }
  ASSERT_TRUE(wait_until(
      [&] {
        return stack_->sql(
                   "SELECT count(*) FROM chat_replies WHERE finished_at IS NULL AND "
                   "user_id = '" +
                   stack_->user_id(name) + "'")[0][0] == "6";
      },
      5s));
  // With a key: a refused request keeps no key, so its retry is a new request.
  auto with_key = auth(token);
  with_key.push_back("Idempotency-Key: over-the-limit");
  auto refused = http("POST", b_url("/api/v2/chats/" + chats[6] + "/messages"), with_key,
                      body(slow_script(2, 10)));
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("retry-after"), "5");
  EXPECT_NE(refused.body.find("Too many replies"), std::string::npos) << refused.body;
  EXPECT_EQ(stack_->sql("SELECT count(*) FROM idempotency_keys WHERE key = 'over-the-limit'")[0][0],
            "0");
  for (auto& t : running) t.join();
  EXPECT_EQ(messages(token, chats[6]).size(), 0u) << "the refused message was stored";
  auto retried = http_stream("POST", stack_->url("/api/v2/chats/" + chats[6] + "/messages"),
                             with_key, body(slow_script(2, 10)));
  EXPECT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(messages(token, chats[6]).size(), 2u);
  auto later =
      send(token, chats[6], "fake-openai", script_message({{"steps", {{{"text", "ok"}}}}}));
  EXPECT_EQ(later.status, 200);
}

TEST_F(Lifecycle, SimultaneousSendsNeverExceedTheUserLimit) {
  // Ten sends at once through both instances: exactly six start (max-replies-per-user).
  auto token = stack_->new_user_token(unique("rush"));
  std::vector<std::string> chats;
  for (int i = 0; i < 10; ++i) chats.push_back(create_chat(token)["id"]);
  std::vector<long> statuses(chats.size());
  std::vector<std::thread> sends;
  for (size_t i = 0; i < chats.size(); ++i)
    sends.emplace_back([&, i] {
      std::string path = "/api/v2/chats/" + chats[i] + "/messages";
      statuses[i] = http("POST", i % 2 ? b_url(path) : stack_->url(path), auth(token),
                         body(slow_script(10, 100)))
                        .status;
    });
  for (auto& t : sends) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 6);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 429), 4);
}

TEST_F(Lifecycle, AboutOneWritePerSecondWhileNobodyFollows) {
  // Every statement that changes the reply's row is counted by a trigger.
  stack_->sql(
      "CREATE TABLE IF NOT EXISTS reply_writes (chat_id uuid, at timestamptz DEFAULT now());"
      "CREATE OR REPLACE FUNCTION count_reply_write() RETURNS trigger LANGUAGE plpgsql AS "
      "$$BEGIN INSERT INTO reply_writes (chat_id) VALUES (NEW.chat_id); RETURN NEW; END$$;"
      "DROP TRIGGER IF EXISTS reply_writes ON chat_replies;"
      "CREATE TRIGGER reply_writes AFTER INSERT OR UPDATE ON chat_replies "
      "FOR EACH ROW EXECUTE FUNCTION count_reply_write()");
  auto token = stack_->new_user_token(unique("writes"));
  std::string chat = create_chat(token)["id"];
  // 40 parts over 6 s, nobody attached.
  auto r = http_stream("POST", stack_->url("/api/v2/chats/" + chat + "/messages"), auth(token),
                       body(slow_script(40, 150)));
  ASSERT_EQ(r.status, 200);
  auto seconds = (r.chunks.back().at - r.sent).count() / 1e9;
  auto writes = std::stoi(
      stack_->sql("SELECT count(*) FROM reply_writes WHERE chat_id = '" + chat + "'")[0][0]);
  stack_->sql("DROP TRIGGER reply_writes ON chat_replies");
  std::printf("reply of %.1f s with %zu parts, nobody following: %d writes to its row (%.2f/s)\n",
              seconds, r.lines().size(), writes, writes / seconds);
  RecordProperty("reply_row_writes_per_second", std::to_string(writes / seconds));
  // One to claim, about one a second, one to finish.
  EXPECT_LE(writes, seconds * 1.0 + 3) << writes << " writes in " << seconds << " s";
  EXPECT_GE(writes, seconds * 0.5);
}

TEST_F(Lifecycle, AKilledWorkerLeavesNoStuckChatAndNoLostReply) {
  auto token = stack_->new_user_token(unique("crash"));
  std::string chat = create_chat(token)["id"];
  StreamedResponse r;
  std::thread streaming([&] {
    r = http_stream("POST", b_url("/api/v2/chats/" + chat + "/messages"), auth(token),
                    body(slow_script(60, 100)));
  });
  // Killed once a checkpoint holds ten words: those must not be lost.
  ASSERT_TRUE(wait_until([&] { return checkpointed(chat, "w10"); }, 10s));
  auto worker = stack_->sql("SELECT worker FROM chat_replies WHERE chat_id = '" + chat + "'")[0][0];
  pid_t pid = std::stoi(worker.substr(worker.rfind(':') + 1));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  auto killed = Clock::now();
  streaming.join();
  ASSERT_TRUE(wait_until([&] { return status(token, chat) == "idle"; }, 12s));
  EXPECT_LT(Clock::now() - killed, 10s);
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 2u) << "the partial reply was lost";
  std::string content = stored[1]["content"];
  // All but at most the last second: the words the client saw up to a second before the kill.
  EXPECT_NE(content.find("w10"), std::string::npos) << content;
  auto reason = stack_->sql("SELECT finish_reason FROM chat_messages WHERE chat_id = '" + chat +
                            "' AND content->>'role' = 'assistant'");
  EXPECT_EQ(reason.at(0).at(0), "error");
  // …and says so in GET …/messages, for a page to mark it after a reload (API.md §8).
  EXPECT_EQ(stored[1]["finish_reason"], "error");
  EXPECT_EQ(stored[1]["interrupted"], true);
  auto next = send(token, chat, "fake-openai", script_message({{"steps", {{{"text", "again"}}}}}));
  EXPECT_EQ(count_prefix(next.lines(), "d:"), 1u) << next.body;
}

}  // namespace
}  // namespace chatd::test
