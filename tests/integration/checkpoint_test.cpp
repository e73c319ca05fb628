// sql::ReplyStore's batched checkpoint (the reply loop writes all its replies' progress in one
// statement) against the stack's PostgreSQL: every reply of the batch is written, one the
// database refuses fails alone, and a reply that no longer runs has no answer.
#include "base/json_text.hpp"
#include "fixture.hpp"
#include "llm/data_stream.hpp"
#include "sql/pool.hpp"
#include "sql/store.hpp"

namespace chatd::test {
namespace {

class Checkpoints : public ReplyTest {};

TEST_F(Checkpoints, ABatchWritesEveryReplyAndOneRefusedRecordFailsOnlyItsOwn) {
  sql::Pool pool(stack_->postgres->url(), 2, std::chrono::seconds(5));
  sql::Store store(pool);
  std::string user = unique("batch");
  auto token = stack_->new_user_token(user);
  std::vector<std::string> chats;
  for (int i = 0; i < 4; ++i) {
    chats.push_back(create_chat(token)["id"]);
    auto claim =
        store.replies.begin({chats[i], "msg-" + std::to_string(i), stack_->user_id(user),
                             "fake-openai", "openai", "test:1", "", "", 0, 0.0, std::nullopt});
    ASSERT_EQ(claim.outcome, sql::ReplyClaim::kClaimed);
  }
  // The last one ended already: it has no answer.
  store.replies.finish(chats[3], "msg-3", {}, std::nullopt, {"stop"}, std::nullopt, std::nullopt);
  stack_->sql(R"(
    CREATE OR REPLACE FUNCTION refuse_batch_marker() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF strpos(NEW.parts, 'REFUSEME') > 0 THEN RAISE EXCEPTION 'refused: %', NEW.parts; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_batch_marker BEFORE INSERT OR UPDATE ON chat_reply_parts
      FOR EACH ROW EXECUTE FUNCTION refuse_batch_marker();)");
  std::vector<sql::ReplyCheckpoint> batch;
  for (int i = 0; i < 4; ++i) {
    std::string text = i == 1 ? "REFUSEME" : "text \"" + std::to_string(i) + "\" \xE2\x9C\x93";
    batch.push_back(
        {chats[i], "msg-" + std::to_string(i), {0, "0:" + nlohmann::json(text).dump() + "\n"}});
  }
  auto answer = store.replies.checkpoint(batch);
  stack_->sql(
      "DROP TRIGGER refuse_batch_marker ON chat_reply_parts; DROP FUNCTION "
      "refuse_batch_marker();");

  EXPECT_EQ(answer.running.size(), 2u);
  EXPECT_TRUE(answer.running.count(chats[0]));
  EXPECT_TRUE(answer.running.count(chats[2]));
  ASSERT_EQ(answer.refused.size(), 1u);
  EXPECT_EQ(answer.refused.begin()->first, chats[1]);
  EXPECT_EQ(answer.refused.begin()->second, "database error P0001");
  auto parts = [&](const std::string& chat) {
    return stack_
        ->sql(
            "SELECT coalesce(string_agg(parts, '' ORDER BY at), '') "
            "FROM chat_reply_parts WHERE chat_id = '" +
            chat + "'")
        .at(0)
        .at(0);
  };
  for (int i : {0, 2}) EXPECT_EQ(parts(chats[i]), batch[i].progress.parts) << i;
  EXPECT_EQ(parts(chats[1]), "");
  EXPECT_EQ(parts(chats[3]), "") << "written for a reply that ended";

  // The next checkpoint appends at its place; one sent again from the same place (its
  // connection broke: it may have been written) replaces what is there.
  size_t at = batch[0].progress.parts.size() - 2;  // ✓ is one character in three bytes
  auto next = store.replies.checkpoint({{chats[0], "msg-0", {at, "0:\"a\"\n"}}});
  ASSERT_EQ(next.running.size(), 1u);
  store.replies.checkpoint({{chats[0], "msg-0", {at, "0:\"a\"\n0:\"b\"\n"}}});
  EXPECT_EQ(parts(chats[0]), batch[0].progress.parts + "0:\"a\"\n0:\"b\"\n");
  // A reader reads from any character on, across the rows.
  auto read = store.replies.read(chats[0], at - 2);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->parts, "\"\n0:\"a\"\n0:\"b\"\n");
  EXPECT_EQ(store.replies.read(chats[0], at + 6)->parts, "0:\"b\"\n");
  EXPECT_FALSE(read->finished);

  for (int i = 0; i < 3; ++i)
    store.replies.finish(chats[i], "msg-" + std::to_string(i), {}, std::nullopt, {"stop"},
                         std::nullopt, std::nullopt);
}

// A reply whose worker died is stored with the message its parts make, as a client builds it.
TEST_F(Checkpoints, RecoveryStoresTheMessageItsPartsMake) {
  sql::Pool pool(stack_->postgres->url(), 2, std::chrono::seconds(5));
  sql::Store store(pool);
  std::string user = unique("recover");
  auto token = stack_->new_user_token(user);
  std::string chat = create_chat(token)["id"];
  ASSERT_EQ(store.replies
                .begin({chat, "msg-dead", stack_->user_id(user), "fake-openai", "openai", "test:1",
                        "", "", 0, 0.0, std::nullopt})
                .outcome,
            sql::ReplyClaim::kClaimed);
  store.replies.checkpoint(
      {{chat, "msg-dead", {0, "f:{\"messageId\":\"msg-dead\"}\n0:\"Hel\"\n"}}});
  store.replies.checkpoint({{chat, "msg-dead", {35, "0:\"lo\"\n"}}});
  stack_->sql(
      "UPDATE chat_replies SET heartbeat_at = now() - interval '1 minute' "
      "WHERE chat_id = '" +
      chat + "'");
  // This store and the stack's workers (every 2 s) race to recover it: whoever wins, it is
  // stored once, with the same message (the workers rebuild it as this does).
  std::vector<std::string> rebuilt;
  auto rebuild = [&](const sql::ReplyRead& reply) -> std::optional<std::string> {
    if (reply.message_id == "msg-dead") rebuilt.push_back(reply.parts);
    return base::json_text(llm::rebuild_message(reply.message_id, reply.started_at, reply.parts));
  };
  ASSERT_TRUE(wait_until(
      [&] {
        store.replies.recover(rebuild);
        return stack_->sql("SELECT finished_at IS NOT NULL FROM chat_replies WHERE chat_id = '" +
                           chat + "'")[0][0] == "t";
      },
      10s, 100ms));
  ASSERT_LE(rebuilt.size(), 1u);
  if (!rebuilt.empty()) {
    EXPECT_EQ(rebuilt[0], "f:{\"messageId\":\"msg-dead\"}\n0:\"Hel\"\n0:\"lo\"\n");
  }
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 1u) << "recovered twice";
  EXPECT_EQ(stored[0]["id"], "msg-dead");
  EXPECT_EQ(stored[0]["role"], "assistant");
  EXPECT_EQ(stored[0]["content"], "Hello");
  EXPECT_EQ(stored[0]["finish_reason"], "error");
  EXPECT_EQ(stored[0]["interrupted"], true);
}

// A dead worker's reply whose rebuilt message the database refuses (a trigger refusing a word
// here) still frees its chat: it is finished with nothing stored, and the refused text is in no
// log line.
TEST_F(Checkpoints, RecoveryFreesTheChatWhenTheMessageIsRefused) {
  sql::Pool pool(stack_->postgres->url(), 2, std::chrono::seconds(5));
  sql::Store store(pool);
  std::string user = unique("refusedrecovery");
  auto token = stack_->new_user_token(user);
  std::string chat = create_chat(token)["id"];
  ASSERT_EQ(store.replies
                .begin({chat, "msg-refused", stack_->user_id(user), "fake-openai", "openai",
                        "test:1", "", "", 0, 0.0, std::nullopt})
                .outcome,
            sql::ReplyClaim::kClaimed);
  store.replies.checkpoint({{chat, "msg-refused", {0, "0:\"RECOVERYREFUSEME\"\n"}}});
  stack_->sql(R"(
    CREATE OR REPLACE FUNCTION refuse_recovered() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF strpos(NEW.content::text, 'RECOVERYREFUSEME') > 0 THEN
        RAISE EXCEPTION 'refused: %', NEW.content;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_recovered BEFORE INSERT ON chat_messages
      FOR EACH ROW EXECUTE FUNCTION refuse_recovered();)");
  stack_->sql(
      "UPDATE chat_replies SET heartbeat_at = now() - interval '1 minute' WHERE chat_id = '" +
      chat + "'");
  auto rebuild = [](const sql::ReplyRead& reply) -> std::optional<std::string> {
    return base::json_text(llm::rebuild_message(reply.message_id, reply.started_at, reply.parts));
  };
  bool finished = wait_until(
      [&] {
        store.replies.recover(rebuild);  // or the stack's workers do: the same either way
        return stack_->sql("SELECT finished_at IS NOT NULL FROM chat_replies WHERE chat_id = '" +
                           chat + "'")[0][0] == "t";
      },
      10s, 100ms);
  stack_->sql("DROP TRIGGER refuse_recovered ON chat_messages; DROP FUNCTION refuse_recovered();");
  ASSERT_TRUE(finished) << "a refused message kept the chat running";
  EXPECT_EQ(messages(token, chat).size(), 0u);
  EXPECT_EQ(read_file(stack_->chatd->log_path()).find("RECOVERYREFUSEME"), std::string::npos)
      << "refused reply text in chatd's log";
}

}  // namespace
}  // namespace chatd::test
