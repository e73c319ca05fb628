#include "sql/channels.hpp"

namespace chatd::sql {

std::string reply_channel(const std::string& chat_id) {
  std::string channel = kReplyChannelPrefix;
  for (char c : chat_id)
    if (c != '-') channel += c;
  return channel;
}

}  // namespace chatd::sql
