#include "sql/channels.hpp"

namespace chatd::sql {

namespace {

std::string channel_of(std::string channel, const std::string& id) {
  for (char c : id)
    if (c != '-') channel += c;
  return channel;
}

}  // namespace

std::string reply_channel(const std::string& chat_id) {
  return channel_of(kReplyChannelPrefix, chat_id);
}

std::string user_channel(const std::string& user_id) { return channel_of("chatd_user_", user_id); }

}  // namespace chatd::sql
