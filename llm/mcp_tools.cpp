#include "llm/mcp_tools.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <system_error>
#include <unordered_set>

#include "base/json_text.hpp"
#include "base/utf8.hpp"

namespace chatd::llm {

namespace {

using json = nlohmann::json;

// Room kept for the marker: ,{"type":"text","text":"[truncated: <20 digits> bytes omitted]"}
constexpr std::size_t kMarkerReserve = 80;
constexpr std::size_t kHashSuffixLength = 9;  // "_" and 8 hex digits

std::size_t json_size(const json& j) { return base::json_text(j).size(); }

// The bytes one byte of a string takes in compact JSON (nlohmann, ensure_ascii off).
std::size_t escaped_size(unsigned char c) {
  switch (c) {
    case '"':
    case '\\':
    case '\b':
    case '\f':
    case '\n':
    case '\r':
    case '\t':
      return 2;
    default:
      return c < 0x20 ? 6 : 1;
  }
}

// The longest prefix of `s` whose JSON string body fits in `room` bytes, cut between
// characters.
std::string cut_utf8(const std::string& s, std::size_t room) {
  std::size_t used = 0, i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x06 ? 2
                      : (c >> 4) == 0x0E ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 1;
    if (i + len > s.size()) break;
    std::size_t cost = len == 1 ? escaped_size(c) : len;
    if (used + cost > room) break;
    used += cost;
    i += len;
  }
  return s.substr(0, i);
}

bool is_text_item(const json& item) {
  return item.is_object() && item.value("type", json()) == "text" && item.contains("text") &&
         item["text"].is_string();
}

std::uint32_t fnv1a(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

std::string with_hash_suffix(const std::string& base, std::uint32_t hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string suffix = "_";
  for (int shift = 28; shift >= 0; shift -= 4) suffix += kHex[(hash >> shift) & 0xF];
  return base.substr(0, kMaxToolNameLength - kHashSuffixLength) + suffix;
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string clip(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  return std::string(base::utf8_prefix(s, max)) + "…";
}

}  // namespace

std::string mcp_sanitize_name(std::string_view name) {
  std::string out(name);
  for (auto& c : out) {
    bool ok = is_letter(c) || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return out;
}

std::vector<std::string> mcp_expose_names(
    const std::vector<std::pair<std::string, std::string>>& server_tool) {
  const std::size_t n = server_tool.size();
  std::vector<std::string> names(n), base(n);
  std::vector<bool> unchanged(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string raw = server_tool[i].first + "__" + server_tool[i].second;
    std::string b = mcp_sanitize_name(raw);
    if (!is_letter(b[0]) && b[0] != '_') b.insert(0, "_");
    unchanged[i] = b == raw && b.size() <= kMaxToolNameLength;
    base[i] = std::move(b);
  }
  std::unordered_set<std::string> taken;
  // Names that needed no change first, so a sanitized name never takes a real one.
  for (std::size_t i = 0; i < n; ++i)
    if (unchanged[i] && taken.insert(base[i]).second) names[i] = base[i];
  for (std::size_t i = 0; i < n; ++i) {
    if (!names[i].empty()) continue;
    std::string key = server_tool[i].first + '\x1f' + server_tool[i].second;
    std::string name =
        base[i].size() <= kMaxToolNameLength ? base[i] : with_hash_suffix(base[i], fnv1a(key));
    if (taken.count(name)) name = with_hash_suffix(base[i], fnv1a(key));
    for (int k = 1; taken.count(name); ++k)
      name = with_hash_suffix(base[i], fnv1a(key + '\x1f' + std::to_string(k)));
    taken.insert(name);
    names[i] = std::move(name);
  }
  return names;
}

json mcp_result_json(const McpCallResult& result) {
  json out = {{"content", result.content.is_array() ? result.content : json::array()}};
  if (!result.structured.is_null()) out["structuredContent"] = result.structured;
  if (result.is_error) out["isError"] = true;
  return out;
}

json mcp_truncate_result(json result, std::size_t max_bytes) {
  const std::size_t original = json_size(result);
  if (original <= max_bytes) return result;
  const std::size_t budget = max_bytes > kMarkerReserve ? max_bytes - kMarkerReserve : 0;

  json items = json::array();
  json structured;
  if (result.is_object()) {
    if (result.contains("content") && result["content"].is_array())
      items = std::move(result["content"]);
    if (result.contains("structuredContent")) structured = std::move(result["structuredContent"]);
    result.erase("content");
    result.erase("structuredContent");
  } else {
    items.push_back({{"type", "text"}, {"text", base::json_text(result)}});
    result = json::object();
  }
  result["content"] = json::array();
  std::size_t used = json_size(result);

  // structuredContent cannot be cut; a large one goes (the content carries it too, by the
  // spec's advice), or becomes the text that is cut when there is no text.
  if (!structured.is_null()) {
    std::size_t cost = std::strlen(",\"structuredContent\":") + json_size(structured);
    if (used + cost <= budget / 2) {
      result["structuredContent"] = std::move(structured);
      used += cost;
    } else if (std::none_of(items.begin(), items.end(), is_text_item)) {
      items.insert(items.begin(), json{{"type", "text"}, {"text", base::json_text(structured)}});
    }
  }

  json& content = result["content"];
  for (auto& item : items) {
    std::size_t comma = content.empty() ? 0 : 1;
    std::size_t cost = json_size(item) + comma;
    if (used + cost <= budget) {
      content.push_back(std::move(item));
      used += cost;
      continue;
    }
    if (!is_text_item(item)) continue;  // an image or a resource too large to keep: dropped
    std::string text = item["text"];
    item["text"] = "";
    std::size_t shell = json_size(item) + comma;
    if (used + shell >= budget) continue;
    item["text"] = cut_utf8(text, budget - used - shell);
    if (item["text"].get_ref<const std::string&>().empty()) continue;
    used += json_size(item) + comma;
    content.push_back(std::move(item));
  }
  // Only with a limit too small for even the marker's reserve.
  while (!content.empty() && json_size(result) > budget) content.erase(content.size() - 1);

  std::size_t kept = json_size(result);
  std::size_t omitted = original > kept ? original - kept : 0;
  content.push_back(
      {{"type", "text"}, {"text", "[truncated: " + std::to_string(omitted) + " bytes omitted]"}});
  return result;
}

// --- McpToolRunner -------------------------------------------------------------------------

McpToolRunner::McpToolRunner(std::vector<McpServerConfig> servers,
                             std::function<void(const std::string&)> on_problem,
                             std::chrono::milliseconds ttl, std::size_t max_result_bytes)
    : on_problem_(std::move(on_problem)), ttl_(ttl), max_result_bytes_(max_result_bytes) {
  for (auto& s : servers) clients_.push_back(std::make_unique<McpClient>(std::move(s)));
  down_.resize(clients_.size());
}

McpToolRunner::~McpToolRunner() {
  stopping_ = true;
  for (auto& c : clients_) c->cancel();
  std::lock_guard lock(background_mutex_);
  if (background_.joinable()) background_.join();
}

void McpToolRunner::report(const std::string& line) const {
  if (!on_problem_ || stopping_) return;
  try {
    on_problem_(line);
  } catch (...) {
  }
}

std::shared_ptr<const McpToolRunner::Catalog> McpToolRunner::catalog() const {
  std::lock_guard lock(mutex_);
  return catalog_;
}

void McpToolRunner::refresh() {
  std::lock_guard lock(refresh_mutex_);
  refresh_locked();
}

void McpToolRunner::publish(std::shared_ptr<const Catalog> next) const {
  {
    std::lock_guard lock(mutex_);
    catalog_ = std::move(next);
  }
  published_.notify_all();
}

std::shared_ptr<McpToolRunner::Catalog> McpToolRunner::build(const Lists& lists) const {
  auto next = std::make_shared<Catalog>();
  next->fetched = Clock::now();
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<std::pair<std::size_t, const McpTool*>> origins;
  for (std::size_t i = 0; i < lists.size(); ++i) {
    if (!lists[i]) {
      next->complete = false;
      continue;
    }
    for (const auto& tool : *lists[i]) {
      pairs.emplace_back(clients_[i]->config().name, tool.name);
      origins.emplace_back(i, &tool);
    }
  }
  auto names = mcp_expose_names(pairs);
  for (std::size_t k = 0; k < names.size(); ++k) {
    const McpTool& tool = *origins[k].second;
    next->specs.push_back({names[k], tool.description, tool.input_schema});
    next->targets.emplace(names[k], Target{origins[k].first, tool.name});
  }
  return next;
}

void McpToolRunner::refresh_locked() const {
  const std::size_t n = clients_.size();
  Lists lists(n);
  std::vector<std::string> errors(n);
  std::mutex lists_mutex;
  const bool first = catalog() == nullptr;
  auto fetch = [&](std::size_t i) {
    std::optional<std::vector<McpTool>> tools;
    std::string error;
    try {
      tools = clients_[i]->list_tools();
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = clients_[i]->config().name + ": tools/list failed";
    }
    std::lock_guard lock(lists_mutex);
    lists[i] = std::move(tools);
    errors[i] = std::move(error);
    // Nothing to show yet: what has come so far beats waiting for a slow server.
    if (first && lists[i]) {
      auto partial = build(lists);
      partial->complete = false;
      publish(std::move(partial));
    }
  };
  // All servers at once: a slow or unreachable one costs its own timeout, not the sum.
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < n; ++i) {
    try {
      threads.emplace_back(fetch, i);
    } catch (const std::system_error&) {
      fetch(i);
    }
  }
  if (n > 0) fetch(0);
  for (auto& t : threads) t.join();

  for (std::size_t i = 0; i < n; ++i) {
    const std::string& name = clients_[i]->config().name;
    if (!lists[i]) {
      if (errors[i] != down_[i])
        report("MCP server \"" + name + "\" is unavailable, its tools are left out: " + errors[i]);
      down_[i] = errors[i];
    } else if (!down_[i].empty()) {
      report("MCP server \"" + name + "\" is back (" + std::to_string(lists[i]->size()) +
             " tools)");
      down_[i].clear();
    }
  }
  publish(build(lists));
}

void McpToolRunner::refresh_async() const {
  if (refreshing_.exchange(true)) return;  // one refresh at a time
  std::lock_guard lock(background_mutex_);
  if (background_.joinable()) background_.join();  // the last one, finished or finishing
  try {
    background_ = std::thread([this] {
      {
        std::lock_guard refresh_lock(refresh_mutex_);
        try {
          refresh_locked();
        } catch (...) {
        }
      }
      refreshing_ = false;
    });
  } catch (const std::system_error&) {
    refreshing_ = false;
  }
}

std::vector<ToolSpec> McpToolRunner::tools() const {
  auto current = catalog();
  if (!current) {
    refresh_async();
    std::unique_lock lock(mutex_);
    published_.wait_for(lock, kFirstListWait, [&] { return catalog_ != nullptr; });
    if (!catalog_) return {};
    return catalog_->specs;
  }
  auto age = Clock::now() - current->fetched;
  if (age >= ttl_ || (!current->complete && age >= std::min(ttl_, kDownRetry))) refresh_async();
  return current->specs;
}

json McpToolRunner::run_one(const Catalog& catalog, const ToolCallDone& call) const {
  std::string server;
  auto outcome = CallOutcome::kFailed;
  auto answer = [&]() -> json {
    try {
      auto it = catalog.targets.find(call.name);
      if (it == catalog.targets.end())
        return {{"error", "unknown tool \"" + clip(call.name, 100) + "\""}};
      server = clients_[it->second.server]->config().name;
      json args = call.args.is_null() ? json::object() : call.args;
      if (!args.is_object())
        return {
            {"error", "the arguments of \"" + clip(call.name, 100) + "\" must be a JSON object"}};
      auto result = clients_[it->second.server]->call_tool(it->second.tool, args);
      outcome = result.is_error ? CallOutcome::kToolError : CallOutcome::kOk;
      return mcp_truncate_result(mcp_result_json(result), max_result_bytes_);
    } catch (const McpError& e) {
      return {{"error", e.what()}};
    } catch (...) {
      return {{"error", "tool \"" + clip(call.name, 100) + "\" failed"}};
    }
  }();
  if (call_observer_) {
    try {
      call_observer_(server, outcome);
    } catch (...) {
    }
  }
  return answer;
}

std::vector<json> McpToolRunner::run(const std::vector<ToolCallDone>& calls) {
  auto current = catalog();
  if (!current) current = std::make_shared<const Catalog>();  // no server answered yet
  std::vector<json> results(calls.size());
  if (calls.empty()) return results;
  // Each call on its own thread (each with its own curl handle), the first on this one.
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < calls.size(); ++i) {
    try {
      threads.emplace_back([&, i] { results[i] = run_one(*current, calls[i]); });
    } catch (const std::system_error&) {
      results[i] = run_one(*current, calls[i]);
    }
  }
  results[0] = run_one(*current, calls[0]);
  for (auto& t : threads) t.join();
  return results;
}

}  // namespace chatd::llm
