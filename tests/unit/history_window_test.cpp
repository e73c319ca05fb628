// The model's view of a long chat (max-history-messages): the store reads only the newest
// messages; history_window must cut them exactly as trimming the whole history did.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "handlers/messages.hpp"

namespace chatd::http {
namespace {

using nlohmann::json;

// The rule as it was applied to the whole history plus the new user message: keep the newest
// `keep`, then move the start forward to a user message (never past the last message).
json trim_whole_history(json history, size_t keep) {
  if (history.size() <= keep) return history;
  size_t first = history.size() - keep;
  while (first + 1 < history.size() && history[first].value("role", "") != "user") ++first;
  history.erase(history.begin(), history.begin() + static_cast<long>(first));
  return history;
}

json stored_message(int index, const std::string& role) {
  return {{"id", "m" + std::to_string(index)},
          {"role", role},
          {"content", "text " + std::to_string(index)}};
}

// What the store hands over: at most `limit` of the newest messages, newest first, as text.
std::vector<std::string> newest_first(const json& stored, size_t limit) {
  std::vector<std::string> rows;
  for (size_t i = stored.size(); i > 0 && rows.size() < limit; --i)
    rows.push_back(stored[i - 1].dump());
  return rows;
}

// The window when only the message count cuts (max-history-bytes not reached).
json window_of(const json& stored, size_t keep) {
  auto rows = newest_first(stored, keep);
  return history_window(rows, keep, /*whole=*/rows.size() < keep);
}

TEST(HistoryWindow, SameCutAsTrimmingTheWholeHistory) {
  std::mt19937 random(7);
  const std::vector<std::string> roles = {"user", "assistant", "system"};
  const json new_message = {{"id", "new"}, {"role", "user"}, {"content", "now"}};
  for (size_t keep = 1; keep <= 7; ++keep) {
    for (int stored_count = 0; stored_count <= 14; ++stored_count) {
      for (int trial = 0; trial < 40; ++trial) {
        json stored = json::array();
        for (int i = 0; i < stored_count; ++i) {
          // Mostly alternating, sometimes runs of assistant messages (tool loops, failures).
          std::string role = random() % 3 == 0 ? roles[random() % roles.size()]
                                               : (i % 2 == 0 ? "user" : "assistant");
          stored.push_back(stored_message(i, role));
        }
        json whole = stored;
        whole.push_back(new_message);
        json window = window_of(stored, keep);
        window.push_back(new_message);
        ASSERT_EQ(window, trim_whole_history(whole, keep))
            << "keep " << keep << ", stored " << stored.dump();
      }
    }
  }
}

TEST(HistoryWindow, ShortChatIsKeptWholeEvenWhenItStartsWithAnAssistant) {
  json stored = json::array({stored_message(0, "assistant"), stored_message(1, "user")});
  EXPECT_EQ(window_of(stored, 3), stored);
}

TEST(HistoryWindow, CutMovesToTheNextUserMessage) {
  json stored = json::array();
  for (int i = 0; i < 10; ++i)
    stored.push_back(stored_message(i, i % 2 == 1 ? "assistant" : "user"));
  // keep 4: the new message and stored 7..9; 7 is an assistant, so 8 starts the window.
  json window = window_of(stored, 4);
  ASSERT_EQ(window.size(), 2u);
  EXPECT_EQ(window[0]["id"], "m8");
  EXPECT_EQ(window[1]["id"], "m9");
}

TEST(HistoryWindow, NoUserMessageInTheWindowLeavesOnlyTheNewMessage) {
  json stored = json::array({stored_message(0, "user")});
  for (int i = 1; i < 6; ++i) stored.push_back(stored_message(i, "assistant"));
  EXPECT_EQ(window_of(stored, 3), json::array());
}

// max-history-bytes left fewer rows than `keep`: they are not the whole chat, so the window
// still starts at a user message.
TEST(HistoryWindow, AByteCutIsACutToo) {
  json stored = json::array();
  for (int i = 0; i < 10; ++i)
    stored.push_back(stored_message(i, i % 2 == 1 ? "assistant" : "user"));
  auto rows = newest_first(stored, 3);  // 9, 8, 7 fitted in the bytes; keep is 200
  json window = history_window(rows, 200, /*whole=*/false);
  ASSERT_EQ(window.size(), 2u);
  EXPECT_EQ(window[0]["id"], "m8");
  EXPECT_EQ(window[1]["id"], "m9");
  EXPECT_EQ(history_window({}, 200, /*whole=*/false), json::array());
}

}  // namespace
}  // namespace chatd::http
