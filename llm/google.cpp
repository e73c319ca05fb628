// Google Gemini, Generative Language API (STREAM-PROTOCOL.md §3.3, §4.3).
#include <algorithm>
#include <atomic>
#include <cctype>
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

constexpr std::string_view kName = display_name("google");
constexpr std::string_view kDefaultBase = "https://generativelanguage.googleapis.com";

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

bool supported_image(const std::string& media_type) {
  static const std::set<std::string> kTypes = {"image/png", "image/jpeg", "image/webp",
                                               "image/heic", "image/heif"};
  return kTypes.count(media_type) > 0;
}

json user_part(const UserItem& item) {
  if (!item.file) return {{"text", item.text}};
  const FileRef& file = *item.file;
  if (!supported_image(file.media_type) && !file.is_pdf()) return {{"text", file.omitted_text()}};
  if (file.remote()) return {{"fileData", {{"mimeType", file.media_type}, {"fileUri", file.url}}}};
  return {{"inlineData", {{"mimeType", file.media_type}, {"data", file.base64}}}};
}

// Ids we made up for calls Gemini sent without one ("call_<n>") are not Gemini's: not sent back.
bool generated_id(const std::string& id) {
  if (id.size() <= 5 || id.compare(0, 5, "call_") != 0) return false;
  for (size_t i = 5; i < id.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(id[i]))) return false;
  return true;
}

// Gemini wants user and model contents to alternate, like Anthropic.
void push(json& contents, const char* role, json parts) {
  if (parts.empty()) return;
  if (!contents.empty() && contents.back()["role"] == role) {
    for (auto& part : parts) contents.back()["parts"].push_back(std::move(part));
    return;
  }
  contents.push_back({{"role", role}, {"parts", std::move(parts)}});
}

void append_step(const Step& step, json& contents) {
  json parts = json::array();
  if (!step.text.empty()) parts.push_back({{"text", step.text}});
  for (const auto& call : step.calls) {
    json function_call = {{"name", call.name}, {"args", call.args}};
    if (!generated_id(call.id)) function_call["id"] = call.id;
    json part = {{"functionCall", std::move(function_call)}};
    std::string signature =
        string_member(member(call.provider_metadata, "google"), "thoughtSignature");
    if (!signature.empty()) part["thoughtSignature"] = signature;
    parts.push_back(std::move(part));
  }
  push(contents, "model", std::move(parts));

  json responses = json::array();
  for (const auto& call : step.calls) {
    json response = {{"name", call.name},
                     {"response", {{"name", call.name}, {"content", call.result}}}};
    if (!generated_id(call.id)) response["id"] = call.id;
    responses.push_back({{"functionResponse", std::move(response)}});
  }
  push(contents, "user", std::move(responses));
}

// JSON Schema -> Gemini's OpenAPI subset, recursively. Local $refs are inlined; keywords
// Gemini does not take are dropped.
class SchemaConverter {
 public:
  explicit SchemaConverter(const json& root) : root_(root) {}

  json convert(const json& schema, int depth = 0) const {
    json out = json::object();
    if (!schema.is_object() || depth > kMaxDepth) return out;

    if (std::string ref = string_member(schema, "$ref"); !ref.empty()) {
      json target = resolve(ref);
      if (std::find(refs_.begin(), refs_.end(), ref) != refs_.end()) {
        // A recursive type: cut at its second appearance, keeping only the type.
        if (const json& type = member(target, "type"); type.is_string())
          out["type"] = upper(type.get<std::string>());
      } else {
        refs_.push_back(ref);
        out = convert(target, depth + 1);
        refs_.pop_back();
      }
      if (std::string d = string_member(schema, "description"); !d.empty()) out["description"] = d;
      return out;
    }

    std::string type;
    bool nullable = false;
    const json& types = member(schema, "type");
    if (types.is_string()) {
      type = types.get<std::string>();
    } else if (types.is_array()) {
      for (const auto& t : types) {
        if (!t.is_string()) continue;
        if (t == "null") {
          nullable = true;
        } else if (type.empty()) {
          type = t.get<std::string>();
        }
      }
    }
    if (type == "null") {
      type.clear();
      nullable = true;
    }

    // anyOf / oneOf: a null variant makes it nullable; a single other variant is inlined.
    const json& any_of =
        member(schema, "anyOf").is_array() ? member(schema, "anyOf") : member(schema, "oneOf");
    if (any_of.is_array()) {
      json variants = json::array();
      for (const auto& variant : any_of) {
        if (member(variant, "type") == "null") {
          nullable = true;
        } else {
          variants.push_back(convert(variant, depth + 1));
        }
      }
      if (variants.size() == 1) {
        out = std::move(variants[0]);
      } else if (!variants.empty()) {
        out["anyOf"] = std::move(variants);
      }
    }
    // allOf: the parts merged into one schema.
    if (const json& all_of = member(schema, "allOf"); all_of.is_array()) {
      for (const auto& part : all_of) merge(out, convert(part, depth + 1));
    }

    const json& properties = member(schema, "properties");
    const json& items = member(schema, "items");
    const json& enums = member(schema, "enum");
    bool string_enum =
        enums.is_array() && !enums.empty() &&
        std::all_of(enums.begin(), enums.end(), [](const json& v) { return v.is_string(); });
    bool string_const = member(schema, "const").is_string();
    if (type.empty() && properties.is_object()) type = "object";
    if (type.empty() && items.is_object()) type = "array";
    if (type.empty() && (string_enum || string_const)) type = "string";

    if (!type.empty()) out["type"] = upper(type);
    if (nullable) out["nullable"] = true;
    if (std::string d = string_member(schema, "description"); !d.empty()) out["description"] = d;
    if (type == "string") {
      if (string_enum) {
        out["enum"] = enums;
      } else if (string_const) {
        out["enum"] = json::array({member(schema, "const")});
      }
      std::string format = string_member(schema, "format");
      if (format == "enum" || format == "date-time") out["format"] = format;
    }
    if (properties.is_object()) {
      json converted = json::object();
      for (const auto& [name, property] : properties.items())
        converted[name] = convert(property, depth + 1);
      if (!converted.empty()) {
        json required = json::array();
        for (const auto& name : member(schema, "required"))
          if (name.is_string() && converted.contains(name.get<std::string>()))
            required.push_back(name);
        out["properties"] = std::move(converted);
        if (!required.empty()) out["required"] = std::move(required);
      }
    }
    if (items.is_object()) {
      out["items"] = convert(items, depth + 1);
    } else if (items.is_array() && !items.empty()) {
      out["items"] = convert(items.front(), depth + 1);
    }
    for (const char* key : {"minItems", "maxItems", "minimum", "maximum"})
      if (member(schema, key).is_number()) out[key] = member(schema, key);
    return out;
  }

 private:
  static constexpr int kMaxDepth = 32;

  // "#/$defs/Name" or "#/definitions/Name" (any local JSON pointer).
  json resolve(const std::string& ref) const {
    if (ref.empty() || ref[0] != '#') return json::object();
    try {
      return root_.at(json::json_pointer(ref.substr(1)));
    } catch (const json::exception&) {
      return json::object();
    }
  }

  static void merge(json& into, const json& from) {
    for (const auto& [key, value] : from.items()) {
      if (key == "properties" && into.contains("properties")) {
        for (const auto& [name, property] : value.items()) into["properties"][name] = property;
      } else if (key == "required" && into.contains("required")) {
        for (const auto& name : value) into["required"].push_back(name);
      } else if (!into.contains(key)) {
        into[key] = value;
      }
    }
  }

  const json& root_;
  mutable std::vector<std::string> refs_;  // the $refs being expanded, outermost first
};

json function_declaration(const ToolSpec& tool) {
  json declaration = {{"name", tool.name}};
  if (!tool.description.empty()) declaration["description"] = tool.description;
  json parameters = SchemaConverter(tool.parameters).convert(tool.parameters);
  // A function without parameters has none (an OBJECT without properties is rejected).
  if (parameters.contains("properties")) declaration["parameters"] = std::move(parameters);
  return declaration;
}

FinishReason map_finish(const std::string& reason) {
  static const std::set<std::string> kFiltered = {
      "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"};
  if (reason == "STOP") return FinishReason::kStop;
  if (reason == "MAX_TOKENS") return FinishReason::kLength;
  if (kFiltered.count(reason)) return FinishReason::kContentFilter;
  if (reason == "MALFORMED_FUNCTION_CALL") return FinishReason::kError;
  if (reason == "OTHER" || reason == "FINISH_REASON_UNSPECIFIED") return FinishReason::kOther;
  return FinishReason::kUnknown;
}

using Counter = std::shared_ptr<std::atomic<unsigned long long>>;

class GoogleStreamMapper final : public StreamMapper {
 public:
  GoogleStreamMapper(std::string api_key, Counter counter)
      : api_key_(std::move(api_key)), counter_(std::move(counter)) {}

  void on_event(const SseEvent& event, std::vector<ModelEvent>& out) override {
    if (finished_) return;
    json chunk = json::parse(event.data, nullptr, false);
    if (chunk.is_array() && !chunk.empty()) chunk = chunk.front();
    if (!chunk.is_object()) return;
    if (!member(chunk, "error").is_null()) {
      std::string message = safe_text(error_body_message(chunk), api_key_);
      fail(out, "Google error: " +
                    (message.empty() ? std::string("the stream reported an error") : message));
      return;
    }
    if (const json& usage = member(chunk, "usageMetadata"); usage.is_object()) {
      usage_ = Usage{};
      usage_.prompt_tokens = int_member(usage, "promptTokenCount");
      auto candidates = int_member(usage, "candidatesTokenCount");
      auto thoughts = int_member(usage, "thoughtsTokenCount");
      usage_.reasoning_tokens = thoughts;
      usage_.cache_read_tokens = int_member(usage, "cachedContentTokenCount");
      long long completion = 0;  // left out when the counts are nonsense (overflow)
      if ((candidates || thoughts) &&
          !__builtin_add_overflow(candidates.value_or(0), thoughts.value_or(0), &completion))
        usage_.completion_tokens = completion;
    }
    const json& candidates = member(chunk, "candidates");
    if (!candidates.is_array() || candidates.empty()) {
      std::string blocked = string_member(member(chunk, "promptFeedback"), "blockReason");
      if (!blocked.empty())
        fail(out, "Google: prompt blocked (" + safe_text(blocked, api_key_) + ")");
      return;
    }
    const json& candidate = candidates.front();
    const json& parts = member(member(candidate, "content"), "parts");
    if (parts.is_array())
      for (const auto& part : parts) on_part(part, out);
    if (std::string reason = string_member(candidate, "finishReason"); !reason.empty())
      finish_reason_ = reason;
  }

  Usage usage() const override { return usage_; }

  void on_end(std::vector<ModelEvent>& out) override {
    if (finished_) return;
    if (!finish_reason_) {
      fail(out, "Google stream ended unexpectedly");
      return;
    }
    out.push_back(StepFinish{finish_with_calls(map_finish(*finish_reason_), had_calls_), usage_});
    finished_ = true;
  }

 private:
  void on_part(const json& part, std::vector<ModelEvent>& out) {
    if (const json& text = member(part, "text"); text.is_string()) {
      std::string value = text.get<std::string>();
      if (value.empty()) return;
      if (member(part, "thought") == true) {
        out.push_back(ReasoningDelta{std::move(value)});
      } else {
        out.push_back(TextDelta{std::move(value)});
      }
      return;
    }
    const json& call = member(part, "functionCall");
    if (!call.is_object()) return;
    std::string id = string_member(call, "id");
    if (id.empty()) id = "call_" + std::to_string(++*counter_);
    std::string name = string_member(call, "name");
    const json& args = member(call, "args");
    json metadata;
    if (std::string signature = string_member(part, "thoughtSignature"); !signature.empty())
      metadata = {{"google", {{"thoughtSignature", signature}}}};
    out.push_back(ToolCallStart{id, name});
    out.push_back(ToolCallDone{id, name, args.is_object() ? args : json::object(), metadata});
    had_calls_ = true;
  }

  void fail(std::vector<ModelEvent>& out, std::string message) {
    out.push_back(StreamError{std::move(message)});
    finished_ = true;
  }

  std::string api_key_;
  Counter counter_;  // ids for calls without one, unique for the provider's lifetime
  std::optional<std::string> finish_reason_;
  Usage usage_;
  bool had_calls_ = false;
  bool finished_ = false;
};

class GoogleProvider final : public Provider {
 public:
  explicit GoogleProvider(const ProviderConfig& config)
      : api_key_(config.api_key), base_(base_url(config.base_url, kDefaultBase)) {}

  const std::string& type() const override { return type_; }

  bool takes_file(std::string_view media_type, bool /*remote*/) const override {
    return supported_image(std::string(media_type)) || media_type == "application/pdf";
  }

  HttpCall stream_call(const ModelRequest& request) const override {
    Conversation conversation = read_conversation(request);
    json contents = json::array();
    for (const auto& turn : conversation.turns) {
      if (turn.assistant) {
        append_step(turn.step, contents);
      } else {
        json parts = json::array();
        for (const auto& item : turn.user) parts.push_back(user_part(item));
        push(contents, "user", std::move(parts));
      }
    }
    json config = {{"maxOutputTokens", request.max_tokens}};
    if (request.thinking) config["thinkingConfig"] = {{"includeThoughts", true}};
    json body = {{"contents", std::move(contents)}, {"generationConfig", std::move(config)}};
    if (!conversation.system.empty())
      body["systemInstruction"] = {{"parts", json::array({{{"text", conversation.system}}})}};
    if (!request.tools.empty()) {
      json declarations = json::array();
      for (const auto& tool : request.tools) declarations.push_back(function_declaration(tool));
      body["tools"] = json::array({{{"functionDeclarations", std::move(declarations)}}});
    }

    std::string model = request.model;
    if (model.rfind("models/", 0) == 0) model.erase(0, 7);
    HttpCall call;
    call.url = base_ + "/v1beta/models/" + model + ":streamGenerateContent?alt=sse";
    call.headers = {"x-goog-api-key: " + api_key_, "Content-Type: application/json",
                    "Accept: text/event-stream"};
    call.body = base::json_text(body);
    return call;
  }

  std::unique_ptr<StreamMapper> new_stream_mapper() const override {
    return std::make_unique<GoogleStreamMapper>(api_key_, counter_);
  }

  ProviderError parse_error(long status, const std::string& body,
                            const std::string& retry_after) const override {
    json parsed = json::parse(body, nullptr, false);
    if (parsed.is_array() && !parsed.empty()) parsed = parsed.front();
    std::string message = error_body_message(parsed);
    // RESOURCE_EXHAUSTED says "quota" for per-minute limits too: only a daily quota (or a
    // limit of 0, a model not in the plan) is not worth a retry.
    bool quota = message.find("limit: 0") != std::string::npos;
    std::optional<double> delay;
    for (const auto& detail : member(member(parsed, "error"), "details")) {
      std::string type = string_member(detail, "@type");
      if (ends_with(type, "google.rpc.RetryInfo")) {
        delay = parse_seconds(string_member(detail, "retryDelay"));
      } else if (ends_with(type, "google.rpc.QuotaFailure")) {
        for (const auto& violation : member(detail, "violations"))
          if (string_member(violation, "quotaId").find("PerDay") != std::string::npos) quota = true;
      }
    }
    ProviderError error = make_provider_error(kName, status, message, quota, retry_after, api_key_);
    if (!error.retry_after_seconds) error.retry_after_seconds = delay;
    return error;
  }

  HttpCall list_models_call() const override {
    return model_list_call(base_ + "/v1beta/models?pageSize=1000", {"x-goog-api-key: " + api_key_});
  }

  std::vector<std::string> parse_model_list(const std::string& body) const override {
    json parsed = json::parse(body, nullptr, false);
    if (!parsed.is_object())
      throw std::runtime_error("Google: the model list is not {\"models\":[...]}");
    std::vector<std::string> ids;
    for (const auto& model : member(parsed, "models")) {
      std::string name = string_member(model, "name");
      if (name.rfind("models/", 0) == 0) name.erase(0, 7);
      if (name.empty()) continue;
      const json& methods = member(model, "supportedGenerationMethods");
      if (methods.is_array() &&
          std::find(methods.begin(), methods.end(), json("generateContent")) == methods.end())
        continue;
      ids.push_back(std::move(name));
    }
    return ids;
  }

 private:
  std::string type_ = "google";
  std::string api_key_;
  std::string base_;
  Counter counter_ = std::make_shared<std::atomic<unsigned long long>>(0);
};

}  // namespace

std::unique_ptr<Provider> make_google_provider(const ProviderConfig& config) {
  return std::make_unique<GoogleProvider>(config);
}

}  // namespace chatd::llm
