// Configuration: command line > environment (CHATD_<OPTION>, dashes as underscores) > INI
// file (--config). Every option is documented in its command's --help.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm/price.hpp"
#include "sql/budget.hpp"

namespace chatd::config {

namespace po = boost::program_options;

// An invalid configuration; the message names the bad key.
class ConfigError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The items of a "key=value;key=value" entry of `list` ("provider", "mcp-server"), keys and
// values trimmed. Throws ConfigError for an item without '=' (see not_key_value).
std::vector<std::pair<std::string, std::string>> key_value_items(const std::string& spec,
                                                                 std::string_view list);

// A secret (an API key, a token) kept in a file, without surrounding white space; nullopt when
// the file cannot be read.
std::optional<std::string> read_secret_file(const std::string& path);

// --help, --config, --database-url, --log-level: every command has them.
po::options_description general_options();
// What `chatd serve` adds.
po::options_description serve_options();

// Parses args (the words after the command) with the environment and the config file into one
// map, in that order of precedence. Throws ConfigError.
po::variables_map load(const std::vector<std::string>& args, const po::options_description& options,
                       const po::positional_options_description& positional = {});

struct General {
  std::string config_file;
  std::string database_url;
  std::string log_level;
  std::string search_language;  // a PostgreSQL text search configuration
};

struct Serve {
  std::string listen;
  unsigned socket_mode = 0660;
  std::string socket_group;
  unsigned workers = 1;
  unsigned threads = 64;
  unsigned db_pool_size = 16;
  uint64_t max_requests = 0;
  uint64_t max_body_size = 4 << 20;
  uint64_t max_file_size = 10 << 20;                       // an upload (API.md §10)
  uint64_t max_file_storage_per_user = uint64_t{1} << 30;  // one user's files
  std::chrono::milliseconds shutdown_timeout{30'000};
  int max_steps = 10;
  std::chrono::milliseconds upstream_connect_timeout{10'000};
  std::chrono::milliseconds upstream_idle_timeout{60'000};
  std::chrono::milliseconds stream_keepalive{15'000};
  std::string on_disconnect = "continue";
  int max_replies_per_user = 4;
  int max_readers_per_reply = 256;
  double rate_limit = 10;  // requests per second per user; 0: no limit
  unsigned rate_burst = 60;
  int max_history_messages = 200;
  uint64_t max_history_bytes = 16 << 20;
  uint64_t max_message_size = 4 << 20;
  uint64_t max_chat_size = uint64_t{64} << 20;
  std::string system_prompt;
  std::string default_model;  // empty: none
  std::chrono::milliseconds mcp_refresh{300'000};
  uint64_t tool_result_limit = 64 << 10;
  std::chrono::seconds archived_chat_retention{0};  // 0: archived chats are kept
  llm::PriceTable prices;                           // model-price entries by model
  std::optional<sql::Budget> budget;                // every user's, but for their own; none: none
};

// Validated views of the map; throw ConfigError naming the key.
General general(const po::variables_map& values);
Serve serve(const po::variables_map& values);

// "key = value" lines of every option in `options`, secrets masked.
std::string describe(const po::variables_map& values, const po::options_description& options);

// The URL or keyword/value connection string with its password replaced by "****".
std::string mask_database_url(const std::string& url);

}  // namespace chatd::config
