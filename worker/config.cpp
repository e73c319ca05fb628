#include "worker/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "base/text.hpp"
#include "llm/provider_registry.hpp"
#include "worker/duration.hpp"
#include "worker/price_config.hpp"

namespace chatd::config {

namespace {

constexpr const char* kEnvPrefix = "CHATD_";

std::string env_name(const std::string& option) {
  std::string name = kEnvPrefix;
  for (char c : option) name += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return name;
}

// Every option any command knows, so that CHATD_LISTEN is not an error for `chatd users`.
std::set<std::string> all_option_names() {
  std::set<std::string> names;
  for (const auto& desc : {general_options(), serve_options()})
    for (const auto& option : desc.options()) names.insert(option->long_name());
  return names;
}

const std::string& value_of(const po::variables_map& values, const char* key) {
  static const std::string kEmpty;
  auto it = values.find(key);
  return it == values.end() ? kEmpty : it->second.as<std::string>();
}

unsigned bounded(const po::variables_map& values, const char* key, uint64_t low, uint64_t high) {
  const auto& text = value_of(values, key);
  auto number = parse_unsigned(text);
  if (!number || *number < low || *number > high)
    throw ConfigError(std::string(key) + ": must be a whole number from " + std::to_string(low) +
                      " to " + std::to_string(high) + ", got \"" + text + "\"");
  return static_cast<unsigned>(*number);
}

// A byte size from `low` to `high`, which `range` names for the error ("1KiB to 16MiB").
uint64_t size_of(const po::variables_map& values, const char* key, uint64_t low, uint64_t high,
                 const char* range) {
  const auto& text = value_of(values, key);
  auto size = parse_size(text);
  if (!size || *size < low || *size > high)
    throw ConfigError(std::string(key) + ": must be a size from " + range + ", got \"" + text +
                      "\"");
  return *size;
}

std::chrono::milliseconds duration_of(const po::variables_map& values, const char* key) {
  const auto& text = value_of(values, key);
  auto duration = parse_duration(text);
  if (!duration || duration->count() == 0)
    throw ConfigError(std::string(key) + ": must be a duration such as 30s, got \"" + text + "\"");
  return *duration;
}

constexpr const char* kDefaultSystemPrompt =
    "You are a helpful assistant. Be precise, concise and honest; say so when you do not know. "
    "When tools are available, use them when they help answer the user, and keep going until "
    "the request is resolved.";

}  // namespace

po::options_description general_options() {
  po::options_description desc("General options");
  desc.add_options()("help,h", "show this help")(
      "config", po::value<std::string>()->default_value(""),
      "INI configuration file (lowest precedence: the environment and the command line win)")(
      "database-url", po::value<std::string>()->default_value("postgresql:///chatd"),
      "PostgreSQL connection string (URL or key=value)")(
      "log-level", po::value<std::string>()->default_value("info"), "debug, info, warn or error")(
      "search-language", po::value<std::string>()->default_value("simple"),
      "PostgreSQL text search configuration of the chat search (simple, english, ...); a change "
      "rebuilds the index when the migrations run");
  return desc;
}

std::vector<std::pair<std::string, std::string>> key_value_items(const std::string& spec,
                                                                 std::string_view list) {
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& field : split_list(spec, ';')) {
    size_t eq = field.find('=');
    if (eq == std::string::npos) throw ConfigError(not_key_value(list, items.size() + 1, field));
    items.emplace_back(base::trim(field.substr(0, eq)), base::trim(field.substr(eq + 1)));
  }
  return items;
}

std::optional<std::string> read_secret_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return std::string(base::trim(text.str()));
}

po::options_description serve_options() {
  std::string types;
  for (const auto& row : llm::kProviderTypes) {
    if (!types.empty()) types += '|';
    types += row.type;
  }
  const std::string provider_help =
      "an LLM provider, repeatable: 'type=" + types +
      ";api-key=K|api-key-file=F|api-key-env=VAR|api-key-credential=NAME;base-url=URL;models=a,b' "
      "(see README)";
  po::options_description desc("Serve options");
  desc.add_options()("listen",
                     po::value<std::string>()->default_value("unix:/run/chatd/chatd.sock"),
                     "FastCGI socket: unix:/path or 127.0.0.1:PORT (ignored when systemd passes "
                     "a socket)")("socket-mode", po::value<std::string>()->default_value("0660"),
                                  "permissions of a unix socket chatd creates (octal)")(
      "socket-group", po::value<std::string>()->default_value(""),
      "group of a unix socket chatd creates (e.g. www-data); empty: chatd's group")(
      "workers", po::value<std::string>()->default_value("0"),
      "worker processes; 0 = one per CPU core")(
      "threads", po::value<std::string>()->default_value("4"),
      "request threads per worker: they do the short part of every request; streamed replies "
      "and their readers then run on the worker's reply loop")(
      "db-pool-size", po::value<std::string>()->default_value("8"),
      "PostgreSQL connections per worker")("max-requests",
                                           po::value<std::string>()->default_value("0"),
                                           "recycle a worker after this many requests; 0 = never")(
      "max-body-size", po::value<std::string>()->default_value("4MiB"),
      "largest request body (bytes, or with KiB/MiB); larger ones get 413")(
      "max-file-size", po::value<std::string>()->default_value("10MiB"),
      "largest file upload (POST /api/v2/chats/files); larger ones get 413 (nginx's site must "
      "let it through on that route)")(
      "max-file-storage-per-user", po::value<std::string>()->default_value("1GiB"),
      "what one user's uploaded files may take in all; an upload past it gets 413")(
      "shutdown-timeout", po::value<std::string>()->default_value("30s"),
      "on SIGTERM, how long in-flight requests may take to finish")(
      "provider", po::value<std::vector<std::string>>(), provider_help.c_str())(
      "model-price", po::value<std::vector<std::string>>(),
      "a model's price, repeatable: 'model=M;input=2.50;output=10;cache-read=1.25;"
      "cache-write=3.75' (US dollars per million tokens; cache prices default to the input "
      "price); a model without one has no cost")(
      "budget", po::value<std::string>(),
      "what each user may spend on model calls per period of UTC time, e.g. "
      "'period=month;limit-usd=10' (day, week from Monday, or month; checked before every "
      "model call); `chatd users budget` sets a user's own; default: no budget")(
      "max-steps", po::value<std::string>()->default_value("10"),
      "most model calls in one reply (the tool loop stops there)")(
      "upstream-connect-timeout", po::value<std::string>()->default_value("10s"),
      "connecting to a provider")("upstream-idle-timeout",
                                  po::value<std::string>()->default_value("60s"),
                                  "a provider that sends nothing for this long has failed")(
      "max-replies-per-user", po::value<std::string>()->default_value("4"),
      "replies one user may have running at once (429 beyond); 0: no limit")(
      "max-readers-per-reply", po::value<std::string>()->default_value("256"),
      "readers (GET .../stream, repeated POSTs) one running reply may have at once, across "
      "all hosts (429 beyond)")(
      "rate-limit", po::value<std::string>()->default_value("10/s"),
      "requests one user may make, on average (N/s, N/m or N/h; 429 beyond), counted in "
      "PostgreSQL across all workers and hosts; 0: no limit")(
      "rate-burst", po::value<std::string>()->default_value("60"),
      "requests one user may make at once above rate-limit after a quiet spell")(
      "max-history-messages", po::value<std::string>()->default_value("200"),
      "newest messages of a chat sent to the model; older ones are left out")(
      "max-history-bytes", po::value<std::string>()->default_value("16MiB"),
      "at most this much of a chat's stored messages (their JSON) is sent to the model; the "
      "oldest beyond it are left out")(
      "max-message-size", po::value<std::string>()->default_value("4MiB"),
      "largest message, in bytes of its JSON: a larger user message gets 413, a longer reply "
      "ends there (finish reason length)")(
      "max-chat-size", po::value<std::string>()->default_value("64MiB"),
      "most a chat may store, in bytes of its messages' JSON: a message to a fuller chat gets "
      "400")(
      "on-disconnect", po::value<std::string>()->default_value("continue"),
      "when the client of a streamed reply goes away: continue (finish and store the reply) or "
      "stop (store what there is)")(
      "stream-keepalive", po::value<std::string>()->default_value("15s"),
      "a streamed reply silent this long gets an empty line, so proxies keep it open")(
      "system-prompt", po::value<std::string>()->default_value(kDefaultSystemPrompt),
      "the system prompt of every chat")(
      "default-model", po::value<std::string>()->default_value(""),
      "the model a page preselects (GET /api/v2/deployment/llms: default_model); empty: the "
      "page's first")(
      "mcp-server", po::value<std::vector<std::string>>(),
      "an MCP server whose tools the model may call, repeatable: 'name=N;url=URL;timeout=30s;"
      "tools=a,b;header=Name: value;bearer-token-file=F' (see README)")(
      "mcp-refresh", po::value<std::string>()->default_value("5m"),
      "how often each worker refetches the MCP servers' tool lists")(
      "tool-result-limit", po::value<std::string>()->default_value("64KiB"),
      "a tool result larger than this is cut (with a marker) before the model sees it")(
      "archived-chat-retention", po::value<std::string>()->default_value("off"),
      "chats archived this long ago (e.g. 720h) are deleted; off: kept");
  return desc;
}

po::variables_map load(const std::vector<std::string>& args, const po::options_description& options,
                       const po::positional_options_description& positional) {
  po::variables_map values;
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), values);

    // Only the CHATD_ variables; an unknown one is a typo worth refusing.
    const auto known = all_option_names();
    std::vector<std::string> unknown;
    std::set<std::string> here;
    for (const auto& option : options.options()) here.insert(option->long_name());
    auto mapper = [&](const std::string& variable) -> std::string {
      if (variable.rfind(kEnvPrefix, 0) != 0) return "";
      if (variable.rfind("CHATD_AI_PROVIDER_", 0) == 0) return "";  // provider_config.cpp
      for (const auto& name : known) {
        if (env_name(name) == variable) return here.count(name) ? name : "";
      }
      unknown.push_back(variable);
      return "";
    };
    po::store(po::parse_environment(options, mapper), values);
    if (!unknown.empty())
      throw ConfigError(unknown.front() + ": unknown environment variable (no such option)");

    auto it = values.find("config");
    if (it != values.end() && !it->second.as<std::string>().empty()) {
      const auto& path = it->second.as<std::string>();
      std::ifstream file(path);
      if (!file) throw ConfigError("config: cannot read \"" + path + "\"");
      // Options of other commands may appear in the shared file.
      po::options_description everything;
      everything.add(general_options()).add(serve_options());
      auto parsed = po::parse_config_file(file, everything, /*allow_unregistered=*/false);
      std::erase_if(parsed.options, [&](const po::option& o) { return !here.count(o.string_key); });
      po::store(parsed, values);
    }
    po::notify(values);
  } catch (const po::error& e) {
    throw ConfigError(e.what());
  }
  return values;
}

General general(const po::variables_map& values) {
  General out{value_of(values, "config"), value_of(values, "database-url"),
              value_of(values, "log-level"), value_of(values, "search-language")};
  if (out.search_language.empty() || out.search_language.size() > 63 ||
      out.search_language.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") !=
          std::string::npos)
    throw ConfigError(
        "search-language: must be the name of a text search configuration such as "
        "simple or english, got \"" +
        out.search_language + "\"");
  static const std::set<std::string> kLevels = {"debug", "info", "warn", "error"};
  if (!kLevels.count(out.log_level))
    throw ConfigError("log-level: must be debug, info, warn or error, got \"" + out.log_level +
                      "\"");
  if (out.database_url.empty()) throw ConfigError("database-url: must not be empty");
  return out;
}

Serve serve(const po::variables_map& values) {
  Serve out;
  out.listen = value_of(values, "listen");
  static const std::regex kListen(
      R"(^unix:/.+$|^[0-9.]+:[0-9]{1,5}$|^\[[0-9a-fA-F:]+\]:[0-9]{1,5}$)");
  bool valid = std::regex_match(out.listen, kListen);
  if (valid && !out.listen.starts_with("unix:")) {
    auto port = std::stoul(out.listen.substr(out.listen.rfind(':') + 1));
    valid = port >= 1 && port <= 65535;
  }
  if (!valid)
    throw ConfigError("listen: must be unix:/absolute/path or ADDRESS:PORT, got \"" + out.listen +
                      "\"");
  const auto& mode = value_of(values, "socket-mode");
  static const std::regex kMode("^0?[0-7]{3}$");
  if (!std::regex_match(mode, kMode))
    throw ConfigError("socket-mode: must be an octal mode such as 0660, got \"" + mode + "\"");
  out.socket_mode = static_cast<unsigned>(std::stoul(mode, nullptr, 8));
  out.socket_group = value_of(values, "socket-group");
  out.workers = bounded(values, "workers", 0, 256);
  if (out.workers == 0)
    out.workers = static_cast<unsigned>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  out.threads = bounded(values, "threads", 1, 4096);
  out.db_pool_size = bounded(values, "db-pool-size", 1, 1024);
  const auto& max_requests = value_of(values, "max-requests");
  auto requests = parse_unsigned(max_requests);
  if (!requests)
    throw ConfigError("max-requests: must be a whole number (0 = never), got \"" + max_requests +
                      "\"");
  out.max_requests = *requests;
  out.max_body_size = size_of(values, "max-body-size", 1, uint64_t{1} << 30, "1 byte to 1GiB");
  out.max_file_size = size_of(values, "max-file-size", 1, uint64_t{1} << 30, "1 byte to 1GiB");
  out.max_file_storage_per_user =
      size_of(values, "max-file-storage-per-user", 0, uint64_t{1} << 40, "0 to 1024GiB");
  out.shutdown_timeout = duration_of(values, "shutdown-timeout");
  out.max_steps = static_cast<int>(bounded(values, "max-steps", 1, 100));
  out.upstream_connect_timeout = duration_of(values, "upstream-connect-timeout");
  out.upstream_idle_timeout = duration_of(values, "upstream-idle-timeout");
  out.stream_keepalive = duration_of(values, "stream-keepalive");
  out.max_replies_per_user = static_cast<int>(bounded(values, "max-replies-per-user", 0, 10000));
  out.max_readers_per_reply = static_cast<int>(bounded(values, "max-readers-per-reply", 1, 100000));
  const auto& rate = value_of(values, "rate-limit");
  auto per_second = parse_rate(rate);
  if (!per_second || *per_second > 1e6)
    throw ConfigError(
        "rate-limit: must be 0 or a rate like 10/s, 600/m or 3600/h (at most "
        "1000000/s), got \"" +
        rate + "\"");
  out.rate_limit = *per_second;
  out.rate_burst = bounded(values, "rate-burst", 1, 1000000);
  out.max_history_messages = static_cast<int>(bounded(values, "max-history-messages", 1, 100000));
  out.max_history_bytes =
      size_of(values, "max-history-bytes", 1024, uint64_t{1} << 30, "1KiB to 1GiB");
  out.max_message_size =
      size_of(values, "max-message-size", 1024, uint64_t{1} << 30, "1KiB to 1GiB");
  out.max_chat_size = size_of(values, "max-chat-size", 1024, uint64_t{1} << 40, "1KiB to 1024GiB");
  out.on_disconnect = value_of(values, "on-disconnect");
  if (out.on_disconnect != "continue" && out.on_disconnect != "stop")
    throw ConfigError("on-disconnect: must be continue or stop, got \"" + out.on_disconnect + "\"");
  out.system_prompt = value_of(values, "system-prompt");
  out.default_model = value_of(values, "default-model");
  out.mcp_refresh = duration_of(values, "mcp-refresh");
  out.tool_result_limit =
      size_of(values, "tool-result-limit", 1024, uint64_t{16} << 20, "1KiB to 16MiB");
  if (auto it = values.find("model-price"); it != values.end())
    out.prices = prices(it->second.as<std::vector<std::string>>());
  if (auto it = values.find("budget"); it != values.end())
    out.budget = parse_budget(it->second.as<std::string>());
  if (value_of(values, "archived-chat-retention") != "off") {
    auto retention = duration_of(values, "archived-chat-retention");
    if (retention < std::chrono::seconds(1))
      throw ConfigError("archived-chat-retention: must be off or at least 1s");
    out.archived_chat_retention = std::chrono::duration_cast<std::chrono::seconds>(retention);
  }
  return out;
}

std::string mask_database_url(const std::string& url) {
  // postgresql://user:secret@host/db
  static const std::regex kUrlPassword(R"(^([a-z]+://[^:/@]*):[^@]*@)");
  // password=secret or password='sec ret'
  static const std::regex kKeyword(R"((password\s*=\s*)('([^'\\]|\\.)*'|\S+))");
  // postgresql://host/db?password=secret&sslmode=require
  static const std::regex kQueryPassword(R"(([?&]password=)[^&]*)");
  if (url.find("://") == std::string::npos) return std::regex_replace(url, kKeyword, "$1****");
  return std::regex_replace(std::regex_replace(url, kUrlPassword, "$1:****@"), kQueryPassword,
                            "$1****");
}

std::string describe(const po::variables_map& values, const po::options_description& options) {
  std::ostringstream out;
  for (const auto& option : options.options()) {
    const auto& name = option->long_name();
    auto it = values.find(name);
    if (name == "help" || it == values.end()) continue;
    // Described with their secrets masked by provider_config.cpp and mcp_config.cpp.
    if (name == "provider" || name == "mcp-server") continue;
    if (name == "model-price") {
      for (const auto& spec : it->second.as<std::vector<std::string>>())
        out << name << " = " << spec << "\n";
      continue;
    }
    std::string value = it->second.as<std::string>();
    if (name == "database-url") value = mask_database_url(value);
    out << name << " = " << value << "\n";
  }
  return out.str();
}

}  // namespace chatd::config
