// Anthropic Messages (STREAM-PROTOCOL.md §3.2, §4.2).
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>

#include "base/json_text.hpp"
#include "llm/conversation.hpp"
#include "llm/provider_common.hpp"
#include "llm/provider_registry.hpp"

namespace chatd::llm {
namespace {

using json = nlohmann::json;
using namespace detail;

constexpr std::string_view kName = display_name("anthropic");
constexpr std::string_view kDefaultBase = "https://api.anthropic.com";
constexpr int kThinkingBudget = 2048;
constexpr int kThinkingMaxTokens = 4096;

bool supported_image(const std::string& media_type) {
  static const std::set<std::string> kTypes = {"image/png", "image/jpeg", "image/gif",
                                               "image/webp"};
  return kTypes.count(media_type) > 0;
}

json source_of(const FileRef& file) {
  if (file.remote()) return {{"type", "url"}, {"url", file.url}};
  return {{"type", "base64"}, {"media_type", file.media_type}, {"data", file.base64}};
}

json user_block(const UserItem& item) {
  if (!item.file) return {{"type", "text"}, {"text", item.text}};
  const FileRef& file = *item.file;
  if (supported_image(file.media_type)) return {{"type", "image"}, {"source", source_of(file)}};
  if (file.is_pdf()) return {{"type", "document"}, {"source", source_of(file)}};
  return {{"type", "text"}, {"text", file.omitted_text()}};
}

// Tool ids must match ^[a-zA-Z0-9_-]+$; ids from other providers may not.
std::string tool_id(std::string id) {
  for (char& c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
  return id;
}

// Anthropic wants user and assistant to alternate: a message of the same role as the last
// one is merged into it.
void push(json& messages, const char* role, json blocks) {
  if (blocks.empty()) return;
  if (!messages.empty() && messages.back()["role"] == role) {
    json& content = messages.back()["content"];
    for (auto& block : blocks) content.push_back(std::move(block));
    // An assistant message with thinking blocks must start with them.
    std::stable_partition(content.begin(), content.end(), [](const json& block) {
      const json& type = member(block, "type");
      return type == "thinking" || type == "redacted_thinking";
    });
    return;
  }
  messages.push_back({{"role", role}, {"content", std::move(blocks)}});
}

void append_step(const Step& step, bool thinking, json& messages) {
  json blocks = json::array();
  // Signed reasoning goes back unmodified, first; only useful (and only safe: a final assistant
  // message may not hold thinking blocks then) when thinking is on.
  if (thinking) {
    for (const auto& block : step.thinking) {
      if (block.redacted) {
        blocks.push_back({{"type", "redacted_thinking"}, {"data", block.data}});
      } else {
        blocks.push_back(
            {{"type", "thinking"}, {"thinking", block.text}, {"signature", block.signature}});
      }
    }
  }
  if (!step.text.empty()) blocks.push_back({{"type", "text"}, {"text", step.text}});
  for (const auto& call : step.calls)
    blocks.push_back({{"type", "tool_use"},
                      {"id", tool_id(call.id)},
                      {"name", call.name},
                      {"input", call.args}});
  push(messages, "assistant", std::move(blocks));

  json results = json::array();
  for (const auto& call : step.calls) {
    json result = {
        {"type", "tool_result"},
        {"tool_use_id", tool_id(call.id)},
        {"content", json::array({{{"type", "text"}, {"text", base::json_text(call.result)}}})}};
    if (call.result.is_object() && call.result.contains("error")) result["is_error"] = true;
    results.push_back(std::move(result));
  }
  push(messages, "user", std::move(results));
}

// Prompt caching (API.md §9): a breakpoint caches the prompt up to and including its block.
// Only for a request with a cache key (a chat's, not its title's, which is never asked twice).
// Three of Anthropic's four: the system prompt, the tool list (its last tool) and the newest
// message (its last block that may carry one: not a thinking block), so that the next step and
// the next turn read all of it from the cache.
void mark_cache_breakpoints(json& body) {
  const json ephemeral = {{"type", "ephemeral"}};
  if (body.contains("system")) body["system"].back()["cache_control"] = ephemeral;
  if (body.contains("tools")) body["tools"].back()["cache_control"] = ephemeral;
  json& messages = body["messages"];
  if (messages.empty()) return;
  json& content = messages.back()["content"];
  for (auto block = content.rbegin(); block != content.rend(); ++block) {
    const json& type = member(*block, "type");
    if (type == "thinking" || type == "redacted_thinking") continue;
    if (type == "text" && member(*block, "text") == "") continue;  // refused on empty text
    (*block)["cache_control"] = ephemeral;
    return;
  }
}

json input_schema(const json& schema) {
  json parameters = schema.is_object() ? schema : json::object();
  if (!parameters.contains("type")) parameters["type"] = "object";
  if (parameters["type"] == "object" && !parameters.contains("properties"))
    parameters["properties"] = json::object();
  return parameters;
}

FinishReason map_finish(const json& reason) {
  if (!reason.is_string()) return FinishReason::kUnknown;
  const std::string& r = reason.get_ref<const std::string&>();
  if (r == "end_turn" || r == "stop_sequence") return FinishReason::kStop;
  if (r == "max_tokens") return FinishReason::kLength;
  if (r == "tool_use") return FinishReason::kToolCalls;
  if (r == "refusal") return FinishReason::kContentFilter;
  if (r == "pause_turn") return FinishReason::kOther;
  return FinishReason::kUnknown;
}

class AnthropicStreamMapper final : public StreamMapper {
 public:
  explicit AnthropicStreamMapper(std::string api_key) : api_key_(std::move(api_key)) {
    usage_.prompt_includes_cache = false;  // input_tokens counts no cache read or write
  }

  void on_event(const SseEvent& event, std::vector<ModelEvent>& out) override {
    if (finished_) return;
    json data = json::parse(event.data, nullptr, false);
    if (!data.is_object()) {
      if (event.event == "error") fail(out, "Anthropic error: the stream reported an error");
      return;
    }
    std::string type = string_member(data, "type");
    if (type.empty()) type = event.event;
    if (type == "error" || event.event == "error") {
      std::string message = safe_text(error_body_message(data), api_key_);
      fail(out, "Anthropic error: " +
                    (message.empty() ? std::string("the stream reported an error") : message));
    } else if (type == "message_start") {
      read_usage(member(member(data, "message"), "usage"));
    } else if (type == "content_block_start") {
      on_block_start(data, out);
    } else if (type == "content_block_delta") {
      on_block_delta(data, out);
    } else if (type == "content_block_stop") {
      if (auto index = int_member(data, "index")) close_block(*index, out);
    } else if (type == "message_delta") {
      const json& reason = member(member(data, "delta"), "stop_reason");
      if (!reason.is_null()) stop_reason_ = reason;
      read_usage(member(data, "usage"));
    } else if (type == "message_stop") {
      while (!blocks_.empty()) {
        close_block(blocks_.begin()->first, out);
        if (finished_) return;
      }
      out.push_back(StepFinish{map_finish(stop_reason_), usage_});
      finished_ = true;
    }
    // ping and unknown event types: nothing.
  }

  Usage usage() const override { return usage_; }

  void on_end(std::vector<ModelEvent>& out) override {
    if (!finished_) fail(out, "Anthropic stream ended unexpectedly");
  }

 private:
  struct ToolBlock {
    std::string id;
    std::string name;
    std::string args;
    json input;  // content_block_start's input, used when no partial_json comes
  };

  void on_block_start(const json& data, std::vector<ModelEvent>& out) {
    auto index = int_member(data, "index");
    const json& block = member(data, "content_block");
    std::string type = string_member(block, "type");
    if (type == "text") {
      if (std::string text = string_member(block, "text"); !text.empty())
        out.push_back(TextDelta{text});
    } else if (type == "thinking") {
      if (std::string text = string_member(block, "thinking"); !text.empty())
        out.push_back(ReasoningDelta{text});
    } else if (type == "redacted_thinking") {
      out.push_back(RedactedReasoning{string_member(block, "data")});
    } else if (type == "tool_use" && index) {
      ToolBlock tool{
          string_member(block, "id"), string_member(block, "name"), {}, member(block, "input")};
      out.push_back(ToolCallStart{tool.id, tool.name});
      blocks_[*index] = std::move(tool);
    }
  }

  void on_block_delta(const json& data, std::vector<ModelEvent>& out) {
    const json& delta = member(data, "delta");
    std::string type = string_member(delta, "type");
    if (type == "text_delta") {
      if (std::string text = string_member(delta, "text"); !text.empty())
        out.push_back(TextDelta{text});
    } else if (type == "thinking_delta") {
      if (std::string text = string_member(delta, "thinking"); !text.empty())
        out.push_back(ReasoningDelta{text});
    } else if (type == "signature_delta") {
      if (std::string signature = string_member(delta, "signature"); !signature.empty())
        out.push_back(ReasoningSignature{signature});
    } else if (type == "input_json_delta") {
      auto index = int_member(data, "index");
      if (!index) return;
      auto block = blocks_.find(*index);
      if (block == blocks_.end()) return;
      std::string piece = string_member(delta, "partial_json");
      if (piece.empty()) return;
      block->second.args += piece;
      out.push_back(ToolCallDelta{block->second.id, piece});
    }
  }

  // message_start carries the input and its cache tokens, message_delta the output (and, from
  // some servers, the input again): each count as last reported.
  void read_usage(const json& usage) {
    if (auto v = int_member(usage, "input_tokens")) usage_.prompt_tokens = v;
    if (auto v = int_member(usage, "output_tokens")) usage_.completion_tokens = v;
    if (auto v = int_member(usage, "cache_read_input_tokens")) usage_.cache_read_tokens = v;
    if (auto v = int_member(usage, "cache_creation_input_tokens")) usage_.cache_write_tokens = v;
  }

  void close_block(long long index, std::vector<ModelEvent>& out) {
    auto block = blocks_.find(index);
    if (block == blocks_.end()) return;
    ToolBlock tool = std::move(block->second);
    blocks_.erase(block);
    std::optional<json> args;
    if (tool.args.empty() && tool.input.is_object()) {
      args = tool.input;
    } else {
      args = parse_tool_args(tool.args);
    }
    if (!args) {
      fail(out, kInvalidToolArgs);
      return;
    }
    out.push_back(ToolCallDone{tool.id, tool.name, std::move(*args), json()});
  }

  void fail(std::vector<ModelEvent>& out, std::string message) {
    out.push_back(StreamError{std::move(message)});
    finished_ = true;
  }

  std::string api_key_;
  std::map<long long, ToolBlock> blocks_;  // open tool_use blocks by index
  json stop_reason_;
  Usage usage_;
  bool finished_ = false;
};

class AnthropicProvider final : public Provider {
 public:
  explicit AnthropicProvider(const ProviderConfig& config)
      : api_key_(config.api_key), base_(base_url(config.base_url, kDefaultBase)) {}

  const std::string& type() const override { return type_; }

  bool takes_file(std::string_view media_type, bool /*remote*/) const override {
    return supported_image(std::string(media_type)) || media_type == "application/pdf";
  }

  HttpCall stream_call(const ModelRequest& request) const override {
    Conversation conversation = read_conversation(request);
    json messages = json::array();
    for (const auto& turn : conversation.turns) {
      if (turn.assistant) {
        append_step(turn.step, request.thinking, messages);
      } else {
        json blocks = json::array();
        for (const auto& item : turn.user) blocks.push_back(user_block(item));
        push(messages, "user", std::move(blocks));
      }
    }
    json body = {{"model", request.model},
                 {"max_tokens", request.max_tokens},
                 {"stream", true},
                 {"messages", std::move(messages)}};
    if (!conversation.system.empty())
      body["system"] = json::array({{{"type", "text"}, {"text", conversation.system}}});
    if (request.thinking) {
      body["thinking"] = {{"type", "enabled"}, {"budget_tokens", kThinkingBudget}};
      body["max_tokens"] = std::max(request.max_tokens, kThinkingMaxTokens);
    }
    if (!request.tools.empty()) {
      json tools = json::array();
      for (const auto& tool : request.tools) {
        json entry = {{"name", tool.name}, {"input_schema", input_schema(tool.parameters)}};
        if (!tool.description.empty()) entry["description"] = tool.description;
        tools.push_back(std::move(entry));
      }
      body["tools"] = std::move(tools);
    }
    if (!request.cache_key.empty()) mark_cache_breakpoints(body);

    HttpCall call;
    call.url = base_ + "/v1/messages";
    call.headers = headers();
    call.headers.push_back("Content-Type: application/json");
    call.headers.push_back("Accept: text/event-stream");
    call.body = base::json_text(body);
    return call;
  }

  std::unique_ptr<StreamMapper> new_stream_mapper() const override {
    return std::make_unique<AnthropicStreamMapper>(api_key_);
  }

  ProviderError parse_error(long status, const std::string& body,
                            const std::string& retry_after) const override {
    json parsed = json::parse(body, nullptr, false);
    std::string message = error_body_message(parsed);
    return make_provider_error(kName, status, message, mentions_quota(message), retry_after,
                               api_key_);
  }

  HttpCall list_models_call() const override {
    return model_list_call(base_ + "/v1/models?limit=1000", headers());
  }

  std::vector<std::string> parse_model_list(const std::string& body) const override {
    return data_ids(kName, body);
  }

 private:
  std::vector<std::string> headers() const {
    return {"x-api-key: " + api_key_, "anthropic-version: 2023-06-01"};
  }

  std::string type_ = "anthropic";
  std::string api_key_;
  std::string base_;
};

}  // namespace

std::unique_ptr<Provider> make_anthropic_provider(const ProviderConfig& config) {
  return std::make_unique<AnthropicProvider>(config);
}

}  // namespace chatd::llm
