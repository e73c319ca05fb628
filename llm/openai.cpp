// OpenAI Chat Completions, and the servers that speak it (STREAM-PROTOCOL.md §3.1, §4.1).
#include "llm/openai.hpp"

#include <atomic>
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

constexpr std::string_view kName = display_name("openai");
constexpr std::string_view kDefaultBase = "https://api.openai.com/v1";
constexpr long long kMaxToolIndex = 1 << 20;

bool supported_image(const std::string& media_type) {
  static const std::set<std::string> kTypes = {"image/png", "image/jpeg", "image/jpg", "image/gif",
                                               "image/webp"};
  return kTypes.count(media_type) > 0;
}

json user_part(const UserItem& item) {
  if (!item.file) return {{"type", "text"}, {"text", item.text}};
  const FileRef& file = *item.file;
  if (supported_image(file.media_type)) {
    std::string url =
        file.remote() ? file.url : "data:" + file.media_type + ";base64," + file.base64;
    return {{"type", "image_url"}, {"image_url", {{"url", url}}}};
  }
  if (file.is_pdf() && !file.remote()) {
    return {{"type", "file"},
            {"file",
             {{"filename", file.name.empty() ? std::string("document.pdf") : file.name},
              {"file_data", "data:application/pdf;base64," + file.base64}}}};
  }
  return {{"type", "text"}, {"text", file.omitted_text()}};
}

json user_message(const std::vector<UserItem>& items) {
  // A lone text goes as a plain string: every OpenAI-compatible server takes that.
  if (items.size() == 1 && !items[0].file) return {{"role", "user"}, {"content", items[0].text}};
  json content = json::array();
  for (const auto& item : items) content.push_back(user_part(item));
  return {{"role", "user"}, {"content", std::move(content)}};
}

void append_step(const Step& step, json& messages) {
  json assistant = {{"role", "assistant"},
                    {"content", step.text.empty() ? json() : json(step.text)}};
  if (!step.calls.empty()) {
    json calls = json::array();
    for (const auto& call : step.calls)
      calls.push_back(
          {{"id", call.id},
           {"type", "function"},
           {"function", {{"name", call.name}, {"arguments", base::json_text(call.args)}}}});
    assistant["tool_calls"] = std::move(calls);
  }
  messages.push_back(std::move(assistant));
  for (const auto& call : step.calls)
    messages.push_back(
        {{"role", "tool"}, {"tool_call_id", call.id}, {"content", base::json_text(call.result)}});
}

json tool_parameters(const json& schema) {
  json parameters = schema.is_object() ? schema : json::object();
  if (!parameters.contains("type")) parameters["type"] = "object";
  if (parameters["type"] == "object" && !parameters.contains("properties"))
    parameters["properties"] = json::object();
  return parameters;
}

FinishReason map_finish(const std::string& reason) {
  if (reason == "stop") return FinishReason::kStop;
  if (reason == "length") return FinishReason::kLength;
  if (reason == "tool_calls" || reason == "function_call") return FinishReason::kToolCalls;
  if (reason == "content_filter") return FinishReason::kContentFilter;
  return FinishReason::kUnknown;
}

// The fast path for the chunk that carries nearly every token: `{…,"choices":[{…,"delta":
// {"content":"…"},"finish_reason":null}]}`. nlohmann's SAX parser reads it (the same lexer,
// checks and string decoding as json::parse) with no DOM: the state below follows the path to
// choices[0].delta and gives up, for the full parse, on anything the full path would act on
// other than delta.content (errors, usage, reasoning, refusals, tool calls, a finish reason,
// repeated keys, unexpected types). Giving up is always correct, only slower.
class TextChunkScan final : public nlohmann::json_sax<json> {
 public:
  bool give_up = false;
  std::string content;

  bool null() override { return scalar(kNull); }
  bool boolean(bool) override { return scalar(kOther); }
  bool number_integer(number_integer_t) override { return scalar(kOther); }
  bool number_unsigned(number_unsigned_t) override { return scalar(kOther); }
  bool number_float(number_float_t, const string_t&) override { return scalar(kOther); }
  bool string(string_t& value) override {
    if (skip_ == 0 && depth_ == kDelta && key_ == kContent) content = value;
    return scalar(kString);
  }
  bool binary(binary_t&) override { return stop(); }
  bool start_object(std::size_t) override { return open(/*object=*/true); }
  bool start_array(std::size_t) override { return open(/*object=*/false); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& name) override {
    if (skip_ > 0) return true;
    key_ = kIgnored;
    if (depth_ == kTop) {
      if (name == "choices") key_ = kChoicesKey;
      if (name == "error" || name == "usage") key_ = kNullOnly;
    } else if (depth_ == kChoice) {
      if (name == "delta") key_ = kDeltaKey;
      if (name == "finish_reason") key_ = kNullOnly;
    } else if (depth_ == kDelta) {
      // role is ignored; content is the text; anything else (reasoning, refusal text, tool
      // calls, keys unknown here) goes the full way.
      if (name == "content") {
        key_ = kContent;
      } else if (name == "refusal") {
        key_ = kNullOnly;
      } else if (name != "role") {
        return stop();
      }
    }
    // A key seen twice: the full parse keeps the last; leave that to it.
    if (key_ != kIgnored && key_ != kNullOnly) {
      unsigned bit = 1u << key_;
      if (seen_ & bit) return stop();
      seen_ |= bit;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  enum Depth { kOutside, kTop, kChoices, kChoice, kDelta };
  enum Key { kIgnored, kChoicesKey, kNullOnly, kDeltaKey, kContent };
  enum Value { kNull, kString, kOther };

  bool stop() {
    give_up = true;
    return false;
  }
  // In the choices array, only the first element is read; the others are skipped.
  bool first_choice() { return choice_count_++ == 0; }

  bool scalar(Value value) {
    if (skip_ > 0) return true;
    switch (depth_) {
      case kOutside:
        return stop();  // not an object: the full path ignores it, let it say so
      case kTop:
        if (key_ == kChoicesKey) return stop();
        return key_ != kNullOnly || value == kNull || stop();
      case kChoices:
        return !first_choice() || stop();
      case kChoice:
        if (key_ == kDeltaKey) return stop();
        return key_ != kNullOnly || value == kNull || stop();
      case kDelta:
        if (key_ == kContent) return value == kString || stop();
        return key_ != kNullOnly || value == kNull || stop();
    }
    return stop();
  }

  bool open(bool object) {
    if (skip_ > 0) {
      ++skip_;
      return true;
    }
    switch (depth_) {
      case kOutside:
        if (!object) return stop();
        depth_ = kTop;
        return true;
      case kTop:
        if (key_ == kNullOnly) return stop();
        if (key_ == kChoicesKey) {
          if (object) return stop();
          depth_ = kChoices;
          return true;
        }
        break;
      case kChoices:
        if (!first_choice()) break;
        if (!object) return stop();
        depth_ = kChoice;
        return true;
      case kChoice:
        if (key_ == kNullOnly) return stop();
        if (key_ == kDeltaKey) {
          if (!object) return stop();
          depth_ = kDelta;
          return true;
        }
        break;
      case kDelta:
        if (key_ != kIgnored) return stop();  // content or refusal that is not a string/null
        break;                                // role
    }
    skip_ = 1;
    return true;
  }

  bool close() {
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    switch (depth_) {
      case kDelta:
        depth_ = kChoice;
        key_ = kDeltaKey;
        break;
      case kChoice:
        depth_ = kChoices;
        break;
      case kChoices:
        depth_ = kTop;
        key_ = kChoicesKey;
        break;
      case kTop:
        depth_ = kOutside;
        break;
      case kOutside:
        return stop();
    }
    return true;
  }

  Depth depth_ = kOutside;
  Key key_ = kIgnored;
  int skip_ = 0;  // nesting inside a value that is skipped
  unsigned seen_ = 0;
  int choice_count_ = 0;
};

class OpenAiStreamMapper final : public StreamMapper {
 public:
  OpenAiStreamMapper(std::string api_key, std::shared_ptr<std::atomic<unsigned long long>> counter,
                     bool text_fast_path)
      : api_key_(std::move(api_key)),
        call_counter_(std::move(counter)),
        text_fast_path_(text_fast_path) {}

  void on_event(const SseEvent& event, std::vector<ModelEvent>& out) override {
    if (finished_) return;
    if (event.data == "[DONE]") {
      finish(out);
      return;
    }
    if (text_fast_path_) {
      if (auto text = detail::openai_text_delta(event.data)) {
        if (!text->empty()) out.push_back(TextDelta{std::move(*text)});
        return;
      }
    }
    json chunk = json::parse(event.data, nullptr, false);
    if (!chunk.is_object()) return;  // not JSON: a keepalive or noise from a compatible server
    auto error = chunk.find("error");
    if (error != chunk.end() && !error->is_null()) {
      std::string message = safe_text(error_body_message(chunk), api_key_);
      fail(out, "OpenAI error: " +
                    (message.empty() ? std::string("the stream reported an error") : message));
      return;
    }
    auto usage = chunk.find("usage");
    if (usage != chunk.end() && usage->is_object()) {
      if (auto v = usage->find("prompt_tokens"); v != usage->end() && v->is_number_integer())
        usage_.prompt_tokens = v->get<long long>();
      if (auto v = usage->find("completion_tokens"); v != usage->end() && v->is_number_integer())
        usage_.completion_tokens = v->get<long long>();
      if (auto v = int_member(member(*usage, "prompt_tokens_details"), "cached_tokens"))
        usage_.cache_read_tokens = v;
      if (auto v = int_member(member(*usage, "completion_tokens_details"), "reasoning_tokens"))
        usage_.reasoning_tokens = v;
    }
    auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array() || choices->empty()) return;
    const json& choice = choices->front();
    if (!choice.is_object()) return;
    if (auto delta = choice.find("delta"); delta != choice.end() && delta->is_object())
      on_delta(*delta, out);
    if (auto reason = choice.find("finish_reason"); reason != choice.end() && reason->is_string())
      finish_reason_ = reason->get<std::string>();
  }

  Usage usage() const override { return usage_; }

  void on_end(std::vector<ModelEvent>& out) override {
    if (finished_) return;
    // No [DONE]: some compatible servers stop after the finish_reason; without one, the
    // stream was cut.
    if (finish_reason_) {
      finish(out);
    } else {
      fail(out, "OpenAI stream ended unexpectedly");
    }
  }

 private:
  struct Call {
    std::string id;
    std::string name;
    std::string args;
  };

  void on_delta(const json& delta, std::vector<ModelEvent>& out) {
    // Reasoning text from compatible servers (DeepSeek, vLLM, llama.cpp: reasoning_content;
    // Ollama, OpenRouter: reasoning). OpenAI itself never streams reasoning.
    std::string reasoning = string_member(delta, "reasoning_content");
    if (reasoning.empty()) reasoning = string_member(delta, "reasoning");
    if (!reasoning.empty()) out.push_back(ReasoningDelta{reasoning});
    if (std::string text = string_member(delta, "content"); !text.empty())
      out.push_back(TextDelta{text});
    if (std::string text = string_member(delta, "refusal"); !text.empty())
      out.push_back(TextDelta{text});
    auto tool_calls = delta.find("tool_calls");
    if (tool_calls == delta.end() || !tool_calls->is_array()) return;
    for (const auto& item : *tool_calls)
      if (item.is_object()) on_tool_delta(item, out);
  }

  void on_tool_delta(const json& item, std::vector<ModelEvent>& out) {
    std::string id = string_member(item, "id");
    const json& function = member(item, "function");
    std::string name = string_member(function, "name");
    std::string args = string_member(function, "arguments");

    // The slot: `index`. A new id at a used index (servers that always send index 0), or a
    // new id without an index, opens the next slot. An index that is not a small count is
    // taken as none: slot numbers stay far from overflowing `next`.
    long long next = calls_.empty() ? 0 : calls_.rbegin()->first + 1;
    long long slot = 0;
    auto index = item.find("index");
    if (index != item.end() && index->is_number_integer() && index->get<long long>() >= 0 &&
        index->get<long long>() <= kMaxToolIndex) {
      long long i = index->get<long long>();
      auto alias = slot_of_index_.find(i);
      if (alias == slot_of_index_.end()) {
        slot = calls_.count(i) ? next : i;
        slot_of_index_[i] = slot;
      } else {
        slot = alias->second;
        if (!id.empty() && id != calls_[slot].id) alias->second = slot = next;
      }
    } else if (!id.empty()) {
      slot = next;
      for (const auto& [key, call] : calls_)
        if (call.id == id) slot = key;
    } else if (!calls_.empty()) {
      slot = calls_.rbegin()->first;
    }

    auto [it, created] = calls_.try_emplace(slot);
    Call& call = it->second;
    if (created) {
      call.id = id.empty() ? "call_" + std::to_string(++*call_counter_) : id;
      call.name = name;
      out.push_back(ToolCallStart{call.id, call.name});
    } else if (call.name.empty()) {
      call.name = name;
    }
    if (!args.empty()) {
      call.args += args;
      out.push_back(ToolCallDelta{call.id, args});
    }
  }

  void finish(std::vector<ModelEvent>& out) {
    for (const auto& [slot, call] : calls_) {
      auto args = parse_tool_args(call.args);
      if (!args) {
        fail(out, kInvalidToolArgs);
        return;
      }
      out.push_back(ToolCallDone{call.id, call.name, std::move(*args), json()});
    }
    FinishReason reason = finish_reason_ ? map_finish(*finish_reason_) : FinishReason::kUnknown;
    out.push_back(StepFinish{finish_with_calls(reason, !calls_.empty()), usage_});
    finished_ = true;
  }

  void fail(std::vector<ModelEvent>& out, std::string message) {
    out.push_back(StreamError{std::move(message)});
    finished_ = true;
  }

  std::string api_key_;
  std::shared_ptr<std::atomic<unsigned long long>> call_counter_;  // ids for calls without one
  std::map<long long, Call> calls_;
  std::map<long long, long long> slot_of_index_;
  std::optional<std::string> finish_reason_;
  Usage usage_;
  bool finished_ = false;
  bool text_fast_path_ = true;
};

class OpenAiProvider final : public Provider {
 public:
  explicit OpenAiProvider(const ProviderConfig& config)
      : api_key_(config.api_key), base_(base_url(config.base_url, kDefaultBase)) {}

  const std::string& type() const override { return type_; }

  bool takes_file(std::string_view media_type, bool remote) const override {
    // Images by URL or inline; PDFs inline only (a file part has no URL).
    return supported_image(std::string(media_type)) || (media_type == "application/pdf" && !remote);
  }

  HttpCall stream_call(const ModelRequest& request) const override {
    Conversation conversation = read_conversation(request);
    json messages = json::array();
    if (!conversation.system.empty())
      messages.push_back({{"role", "system"}, {"content", conversation.system}});
    for (const auto& turn : conversation.turns) {
      if (turn.assistant) {
        append_step(turn.step, messages);
      } else {
        messages.push_back(user_message(turn.user));
      }
    }
    json body = {{"model", request.model},
                 {"messages", std::move(messages)},
                 {"stream", true},
                 {"stream_options", {{"include_usage", true}}}};
    if (!request.tools.empty()) {
      json tools = json::array();
      for (const auto& tool : request.tools) {
        json function = {{"name", tool.name}, {"parameters", tool_parameters(tool.parameters)}};
        if (!tool.description.empty()) function["description"] = tool.description;
        tools.push_back({{"type", "function"}, {"function", std::move(function)}});
      }
      body["tools"] = std::move(tools);
    }
    if (request.thinking) body["reasoning_effort"] = "medium";
    // Requests of one chat go to the same cache (OpenAI caches prompt prefixes by itself).
    if (!request.cache_key.empty()) body["prompt_cache_key"] = request.cache_key;

    HttpCall call;
    call.url = base_ + "/chat/completions";
    call.headers = headers();
    call.headers.push_back("Content-Type: application/json");
    call.headers.push_back("Accept: text/event-stream");
    call.body = base::json_text(body);
    return call;
  }

  std::unique_ptr<StreamMapper> new_stream_mapper() const override {
    return std::make_unique<OpenAiStreamMapper>(api_key_, call_counter_, /*text_fast_path=*/true);
  }

  ProviderError parse_error(long status, const std::string& body,
                            const std::string& retry_after) const override {
    json parsed = json::parse(body, nullptr, false);
    std::string message = error_body_message(parsed);
    const json& error = member(parsed, "error");
    bool quota = string_member(error, "code") == "insufficient_quota" ||
                 string_member(error, "type") == "insufficient_quota" || mentions_quota(message);
    return make_provider_error(kName, status, message, quota, retry_after, api_key_);
  }

  HttpCall list_models_call() const override {
    return model_list_call(base_ + "/models", headers());
  }

  std::vector<std::string> parse_model_list(const std::string& body) const override {
    return data_ids(kName, body, chat_model);
  }

 private:
  // OpenAI lists every model it has; leave out those that cannot chat.
  static bool chat_model(const std::string& id) {
    static const char* kNotChat[] = {"embed",   "whisper", "tts",        "dall-e",    "moderation",
                                     "davinci", "babbage", "transcribe", "gpt-image", "sora"};
    for (const char* word : kNotChat)
      if (id.find(word) != std::string::npos) return false;
    return !id.empty();
  }

  std::vector<std::string> headers() const {
    // No key (Ollama, llama.cpp server): no Authorization header.
    if (api_key_.empty()) return {};
    return {"Authorization: Bearer " + api_key_};
  }

  std::string type_ = "openai";
  std::string api_key_;
  std::string base_;
  std::shared_ptr<std::atomic<unsigned long long>> call_counter_ =
      std::make_shared<std::atomic<unsigned long long>>(0);
};

}  // namespace

std::optional<std::string> detail::openai_text_delta(std::string_view chunk) {
  TextChunkScan scan;
  if (!json::sax_parse(chunk, &scan) || scan.give_up) return std::nullopt;
  return std::move(scan.content);
}

std::unique_ptr<StreamMapper> detail::openai_stream_mapper(bool text_fast_path) {
  return std::make_unique<OpenAiStreamMapper>(
      "", std::make_shared<std::atomic<unsigned long long>>(0), text_fast_path);
}

std::unique_ptr<Provider> make_openai_provider(const ProviderConfig& config) {
  return std::make_unique<OpenAiProvider>(config);
}

}  // namespace chatd::llm
