// max-history-messages and max-history-bytes on a real chat: chatd reads only the newest
// messages of a long chat, and the model gets exactly the window the trimming rule gives (never
// starting on an assistant message). A chatd of its own (--max-history-messages 4
// --max-history-bytes 2KiB) talks to a fake provider that logs the request bodies.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fixture.hpp"

namespace chatd::test {
namespace {

using nlohmann::json;

class History : public ReplyTest {
 protected:
  void SetUp() override {
    ReplyTest::SetUp();
    if (IsSkipped()) return;
    if (!chatd_) {
      std::string dir = stack_->dir + "/history";
      std::filesystem::create_directories(dir);
      fake_ = std::make_unique<FakeProvider>(dir + "/fake", /*log_bodies=*/true);
      std::string openai = fake_->url();
      openai += "/v1";
      chatd_ = std::make_unique<Chatd>(
          dir, stack_->postgres->url(),
          std::vector<std::string>{
              "--workers", "1", "--threads", "4", "--max-history-messages", "4",
              "--max-history-bytes", "2KiB", "--provider",
              "type=openai;api-key=test-key;base-url=" + openai + ";models=fake-openai"});
      chatd_->start();
      nginx_ = std::make_unique<Nginx>(dir + "/nginx", chatd_->socket_path());
    }
  }
  static void TearDownTestSuite() {
    nginx_.reset();
    chatd_.reset();
    fake_.reset();
  }

  // Stores messages m0, m1, … with these roles, oldest first, in one statement; the texts of
  // those with a `padding` are that many 'x' longer.
  void store(const std::string& chat, const std::vector<std::string>& roles,
             const std::vector<size_t>& padding = {}) {
    std::string values;
    for (size_t i = 0; i < roles.size(); ++i) {
      std::string text =
          "m" + std::to_string(i) + std::string(i < padding.size() ? padding[i] : 0, 'x');
      json content = {{"id", "id-" + text},
                      {"role", roles[i]},
                      {"content", text},
                      {"parts", {{{"type", "text"}, {"text", text}}}}};
      values += std::string(values.empty() ? "" : ",") + "('" + chat +
                "', 'fake-openai', 'openai', '" + content.dump() + "'::jsonb)";
    }
    stack_->sql("INSERT INTO chat_messages (chat_id, model, provider, content) VALUES " + values);
    stack_->sql(
        "UPDATE chats SET stored_bytes = (SELECT sum(octet_length(content::text)) FROM "
        "chat_messages WHERE chat_id = chats.id) WHERE id = '" +
        chat + "'");
  }

  // Sends "now" (with `edited`, as an edit of that message: PATCH) and returns the texts of the
  // non-system messages chatd sent the model for the reply (not for the title), and whether a
  // title was asked for.
  std::pair<std::vector<std::string>, bool> send_and_see(const std::string& token,
                                                         const std::string& chat,
                                                         const std::string& edited = "") {
    std::string log = fake_->requests_log();
    size_t before = std::filesystem::exists(log) ? std::filesystem::file_size(log) : 0;
    auto r = http_stream(
        edited.empty() ? "POST" : "PATCH",
        nginx_->base_url() + "/api/v2/chats/" + chat + "/messages" +
            (edited.empty() ? "" : "/" + edited),
        {"Coder-Session-Token: " + token, "Content-Type: application/json"},
        json({{"model", "fake-openai"}, {"message", {{"role", "user"}, {"content", "now"}}}})
            .dump());
    EXPECT_EQ(r.status, 200) << r.error << r.body;
    EXPECT_NE(r.body.find("\nd:{"), std::string::npos) << r.body;
    // The fake logs a request when its answer is done, which may be just after chatd's.
    std::vector<std::string> texts;
    bool title = false;
    wait_until(
        [&] {
          texts.clear();
          title = false;
          bool reply = false;
          std::ifstream in(log);
          in.seekg(static_cast<std::streamoff>(before));
          std::string line;
          while (std::getline(in, line)) {
            json entry = json::parse(line, nullptr, false);
            if (entry.is_discarded()) return false;  // a line still being written
            if (entry.value("scenario", "") == "title") {
              title = true;
              continue;
            }
            reply = true;
            json body = json::parse(entry["body"].get<std::string>());
            cache_key_ = body.value("prompt_cache_key", "");
            for (const auto& message : body["messages"])
              if (message["role"] != "system") texts.push_back(message["content"]);
          }
          return reply;
        },
        5s);
    return {texts, title};
  }

  std::string cache_key_;  // the prompt_cache_key of send_and_see's reply request
  static inline std::unique_ptr<FakeProvider> fake_;
  static inline std::unique_ptr<Chatd> chatd_;
  static inline std::unique_ptr<Nginx> nginx_;
};

using Texts = std::vector<std::string>;

TEST_F(History, AShortChatGoesWhole) {
  auto token = stack_->new_user_token(unique("history"));
  std::string chat = create_chat(token)["id"];
  store(chat, {"assistant", "user", "assistant"});  // 3 + the new one: within 4
  auto [texts, title] = send_and_see(token, chat);
  EXPECT_EQ(texts, (Texts{"m0", "m1", "m2", "now"}));
  EXPECT_FALSE(title);
  EXPECT_EQ(cache_key_, chat) << "the chat is the prompt cache key (API.md §9)";
}

TEST_F(History, ALongChatIsCutToTheNewestStartingOnAUserMessage) {
  auto token = stack_->new_user_token(unique("history"));
  std::string chat = create_chat(token)["id"];
  std::vector<std::string> roles;
  for (int i = 0; i < 300; ++i) roles.push_back(i % 2 ? "assistant" : "user");
  roles[297] = "assistant";  // the cut (m297..m299 and the new one) starts here: moves to m298
  store(chat, roles);
  auto [texts, title] = send_and_see(token, chat);
  EXPECT_EQ(texts, (Texts{"m298", "m299", "now"}));
  EXPECT_FALSE(title);
  // The next turn sees the reply and the message before it, and still no title.
  auto [next, next_title] = send_and_see(token, chat);
  ASSERT_EQ(next.size(), 3u);
  EXPECT_EQ(next[0], "now");
  EXPECT_EQ(next[1].rfind("You said:", 0), 0u) << next[1];
  EXPECT_EQ(next[2], "now");
  EXPECT_FALSE(next_title);
}

// Few messages, but large ones: only the newest that fit in max-history-bytes (2 KiB of stored
// JSON) go, and the window still starts on a user message.
TEST_F(History, LargeMessagesAreCutByTheirSize) {
  auto token = stack_->new_user_token(unique("history"));
  std::string chat = create_chat(token)["id"];
  // ~1.6 KB each for m1 and m2 (the text is in the id, "content" and a part): m2 fits, m1 does not,
  // and m0 (small) is behind it.
  store(chat, {"user", "assistant", "user"}, {0, 500, 500});
  auto [texts, title] = send_and_see(token, chat);
  EXPECT_EQ(texts, (Texts{"m2" + std::string(500, 'x'), "now"}));
  EXPECT_FALSE(title);

  // Only the newest stored message fits, and it is the model's: the window moves past it and
  // the model gets the new message alone.
  std::string second = create_chat(token)["id"];
  store(second, {"user", "assistant"}, {2500, 0});
  auto [only_new, second_title] = send_and_see(token, second);
  EXPECT_EQ(only_new, (Texts{"now"}));
  EXPECT_FALSE(second_title);
}

TEST_F(History, NoUserMessageInTheWindowSendsOnlyTheNewOne) {
  auto token = stack_->new_user_token(unique("history"));
  std::string chat = create_chat(token)["id"];
  store(chat, {"user", "assistant", "assistant", "assistant", "assistant"});
  auto [texts, title] = send_and_see(token, chat);
  EXPECT_EQ(texts, (Texts{"now"}));
  EXPECT_FALSE(title);  // the chat has a user message, before the window
}

TEST_F(History, AChatWithoutAUserMessageGetsATitle) {
  auto token = stack_->new_user_token(unique("history"));
  std::string chat = create_chat(token)["id"];
  store(chat, {"assistant", "assistant", "assistant", "assistant", "assistant"});
  auto [texts, title] = send_and_see(token, chat);
  EXPECT_EQ(texts, (Texts{"now"}));
  EXPECT_TRUE(title);
}

// An edit (PATCH …/messages/{message}) runs the model on what came before the edited message
// and the new text: the edited message and everything after it are gone, in the window and in
// the chat, and the chat's stored_bytes stays exact. Editing the first user message names the
// chat again.
TEST_F(History, AnEditSeesOnlyWhatCameBeforeTheEditedMessage) {
  auto token = stack_->new_user_token(unique("history"));
  std::string chat = create_chat(token)["id"];
  store(chat, {"user", "assistant", "user", "assistant", "user", "assistant"});
  auto [texts, title] = send_and_see(token, chat, "id-m2");
  EXPECT_EQ(texts, (Texts{"m0", "m1", "now"}));
  EXPECT_FALSE(title);
  auto stored = messages(token, chat);
  ASSERT_EQ(stored.size(), 4u);
  EXPECT_EQ(stored[0]["id"], "id-m0");
  EXPECT_EQ(stored[1]["id"], "id-m1");
  EXPECT_EQ(stored[2]["id"], "id-m2") << "the edited message keeps its id";
  EXPECT_EQ(stored[2]["content"], "now");
  EXPECT_EQ(stored[3]["role"], "assistant");
  auto bytes = [&] {
    return stack_->sql(
        "SELECT c.stored_bytes = (SELECT sum(octet_length(content::text)) FROM "
        "chat_messages WHERE chat_id = c.id) FROM chats c WHERE c.id = '" +
        chat + "'")[0][0];
  };
  EXPECT_EQ(bytes(), "t");

  auto [first, first_title] = send_and_see(token, chat, "id-m0");
  EXPECT_EQ(first, (Texts{"now"}));
  EXPECT_TRUE(first_title);
  EXPECT_EQ(messages(token, chat).size(), 2u);
  EXPECT_EQ(bytes(), "t");
}

}  // namespace
}  // namespace chatd::test
