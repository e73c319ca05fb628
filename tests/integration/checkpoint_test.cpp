// sql::ReplyStore's batched checkpoint (the reply loop writes all its replies' progress in one
// statement) against the stack's PostgreSQL: every reply of the batch is written, one the
// database refuses fails alone, and a reply that no longer runs has no answer.
#include "fixture.hpp"
#include "sql/pool.hpp"
#include "sql/store.hpp"

namespace chatd::test {
namespace {

class Checkpoints : public StackTest {};

TEST_F(Checkpoints, ABatchWritesEveryReplyAndOneRefusedRecordFailsOnlyItsOwn) {
  sql::Pool pool(stack_->postgres->url(), 2, std::chrono::seconds(5));
  sql::Store store(pool);
  std::string user = unique("batch");
  auto token = stack_->new_user_token(user);
  std::vector<std::string> chats;
  for (int i = 0; i < 4; ++i) {
    chats.push_back(create_chat(token)["id"]);
    auto claim = store.replies.begin({chats[i], "msg-" + std::to_string(i), stack_->user_id(user),
                                      "fake-openai", "openai", "test:1", "", "", 0, 0.0});
    ASSERT_EQ(claim.outcome, sql::ReplyClaim::kClaimed);
  }
  // The last one ended already: it has no answer.
  store.replies.finish(chats[3], "msg-3", {"", 0, std::nullopt}, {"stop"}, std::nullopt,
                       std::nullopt);
  stack_->sql(R"(
    CREATE OR REPLACE FUNCTION refuse_batch_marker() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF strpos(NEW.parts, 'REFUSEME') > 0 THEN RAISE EXCEPTION 'refused: %', NEW.parts; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_batch_marker BEFORE UPDATE ON chat_replies
      FOR EACH ROW EXECUTE FUNCTION refuse_batch_marker();)");
  std::vector<sql::ReplyCheckpoint> batch;
  for (int i = 0; i < 4; ++i) {
    std::string text = i == 1 ? "REFUSEME" : "text \"" + std::to_string(i) + "\" \xE2\x9C\x93";
    std::string part = "0:" + nlohmann::json(text).dump() + "\n";
    nlohmann::json message = {{"id", "msg-" + std::to_string(i)},
                              {"role", "assistant"},
                              {"content", text},
                              {"parts", {{{"type", "text"}, {"text", text}}}}};
    batch.push_back({chats[i], "msg-" + std::to_string(i), {part, 1, message.dump()}});
  }
  // The first reply's message stays what it was (none yet: NULL) when a checkpoint brings none.
  batch[0].progress.message = std::nullopt;
  auto answer = store.replies.checkpoint(batch);
  stack_->sql(
      "DROP TRIGGER refuse_batch_marker ON chat_replies; DROP FUNCTION "
      "refuse_batch_marker();");

  EXPECT_EQ(answer.running.size(), 2u);
  EXPECT_TRUE(answer.running.count(chats[0]));
  EXPECT_TRUE(answer.running.count(chats[2]));
  ASSERT_EQ(answer.refused.size(), 1u);
  EXPECT_EQ(answer.refused.begin()->first, chats[1]);
  EXPECT_EQ(answer.refused.begin()->second, "database error P0001");
  for (int i : {0, 2}) {
    auto row = stack_->sql(
        "SELECT parts, part_count, message->>'content' FROM chat_replies "
        "WHERE chat_id = '" +
        chats[i] + "'");
    EXPECT_EQ(row.at(0).at(0), batch[i].progress.parts) << i;
    EXPECT_EQ(row.at(0).at(1), "1");
    EXPECT_EQ(row.at(0).at(2), i == 0 ? "NULL" : "text \"2\" \xE2\x9C\x93") << i;
  }
  EXPECT_EQ(
      stack_->sql("SELECT parts FROM chat_replies WHERE chat_id = '" + chats[1] + "'").at(0).at(0),
      "");
  for (int i = 0; i < 3; ++i)
    store.replies.finish(chats[i], "msg-" + std::to_string(i), {"", 1, std::nullopt}, {"stop"},
                         std::nullopt, std::nullopt);
}

}  // namespace
}  // namespace chatd::test
