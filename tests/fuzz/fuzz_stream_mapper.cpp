// Provider stream mapping: the first byte picks the provider (byte % 3: openai, anthropic,
// google; the seeds start with '0', '1' or '2'), the rest is the response body. The body goes
// through SseParser and the provider's StreamMapper, as in llm/reply.cpp. Checked:
//   - exactly one StepFinish or StreamError, and it is the last event;
//   - error messages are short, printable and never hold the API key;
//   - tool call arguments are JSON objects;
//   - the events, turned into data-stream parts as the reply does, build a message that the
//     provider takes back as history (stream_call gives a JSON body);
//   - OpenAI: the mapper with the text fast path (detail::openai_text_delta, a SAX parse) gives
//     exactly the events of the mapper without it (a full parse of every chunk).
// The same body is also read as an error response (parse_error).
#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"
#include "llm/conversation.hpp"
#include "llm/data_stream.hpp"
#include "llm/openai.hpp"
#include "llm/provider_common.hpp"
#include "llm/provider_registry.hpp"

namespace {

using namespace chatd::llm;
using nlohmann::json;

const std::string kApiKey = "sk-fuzz-0123456789-SECRET";

const Provider& provider(int index) {
  static const std::unique_ptr<Provider> providers[] = {
      make_provider({"openai", kApiKey, "", {}}),
      make_provider({"anthropic", kApiKey, "", {}}),
      make_provider({"google", kApiKey, "", {}}),
  };
  return *providers[index];
}

// What a user may be shown: bounded, no control characters, no key.
void check_message(const std::string& message) {
  FUZZ_CHECK(message.size() <= 400);
  FUZZ_CHECK(message.find(kApiKey) == std::string::npos);
  for (char c : message) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
}

std::vector<ModelEvent> map(StreamMapper& mapper, const std::vector<SseEvent>& sse) {
  std::vector<ModelEvent> events;
  for (const auto& event : sse) mapper.on_event(event, events);
  mapper.on_end(events);
  return events;
}

bool same_event(const ModelEvent& a, const ModelEvent& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b);
        if constexpr (std::is_same_v<T, TextDelta> || std::is_same_v<T, ReasoningDelta>)
          return x.text == y.text;
        else if constexpr (std::is_same_v<T, ReasoningSignature>)
          return x.signature == y.signature;
        else if constexpr (std::is_same_v<T, RedactedReasoning>)
          return x.data == y.data;
        else if constexpr (std::is_same_v<T, ToolCallStart>)
          return x.id == y.id && x.name == y.name;
        else if constexpr (std::is_same_v<T, ToolCallDelta>)
          return x.id == y.id && x.args_delta == y.args_delta;
        else if constexpr (std::is_same_v<T, ToolCallDone>)
          return x.id == y.id && x.name == y.name && x.args == y.args &&
                 x.provider_metadata == y.provider_metadata;
        else if constexpr (std::is_same_v<T, StepFinish>)
          return x.finish_reason == y.finish_reason &&
                 x.usage.prompt_tokens == y.usage.prompt_tokens &&
                 x.usage.completion_tokens == y.usage.completion_tokens;
        else
          return x.message == y.message;
      },
      a);
}

bool terminal(const ModelEvent& event) {
  return std::holds_alternative<StepFinish>(event) || std::holds_alternative<StreamError>(event);
}

// Reply::apply in llm/reply.cpp, with a made-up result for every tool call.
void build(const std::vector<ModelEvent>& events, MessageBuilder& builder) {
  builder.apply('f', {{"messageId", "msg-fuzz"}});
  for (const auto& event : events) {
    if (auto* e = std::get_if<TextDelta>(&event)) {
      if (!e->text.empty()) builder.apply('0', e->text);
    } else if (auto* e = std::get_if<ReasoningDelta>(&event)) {
      if (!e->text.empty()) builder.apply('g', e->text);
    } else if (auto* e = std::get_if<ReasoningSignature>(&event)) {
      builder.apply('j', {{"signature", e->signature}});
    } else if (auto* e = std::get_if<RedactedReasoning>(&event)) {
      builder.apply('i', {{"data", e->data}});
    } else if (auto* e = std::get_if<ToolCallDone>(&event)) {
      json call = {{"toolCallId", e->id}, {"toolName", e->name}, {"args", e->args}};
      if (!e->provider_metadata.is_null()) call["providerMetadata"] = e->provider_metadata;
      builder.apply('9', call);
      builder.apply('a', {{"toolCallId", e->id}, {"result", {{"ok", true}}}});
    } else if (auto* e = std::get_if<StepFinish>(&event)) {
      builder.apply('e', {{"finishReason", std::string(wire_name(e->finish_reason))},
                          {"isContinued", false}});
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Provider& chosen = provider(data[0] % 3);
  const std::string_view body = fuzz_bytes(data + 1, size - 1);

  SseParser parser;
  std::vector<SseEvent> sse;
  parser.feed(body, sse);
  parser.finish(sse);
  std::vector<ModelEvent> events = map(*chosen.new_stream_mapper(), sse);

  FUZZ_CHECK(!events.empty() && terminal(events.back()));
  for (std::size_t i = 0; i + 1 < events.size(); ++i) FUZZ_CHECK(!terminal(events[i]));
  for (const auto& event : events) {
    if (auto* error = std::get_if<StreamError>(&event)) check_message(error->message);
    if (auto* call = std::get_if<ToolCallDone>(&event)) FUZZ_CHECK(call->args.is_object());
  }

  if (data[0] % 3 == 0) {
    auto fast = map(*detail::openai_stream_mapper(true), sse);
    auto full = map(*detail::openai_stream_mapper(false), sse);
    FUZZ_CHECK(fast.size() == full.size());
    for (std::size_t i = 0; i < fast.size(); ++i) FUZZ_CHECK(same_event(fast[i], full[i]));
  }

  MessageBuilder builder("msg-fuzz", "2026-01-01T00:00:00.000000Z");
  build(events, builder);
  ModelRequest request;
  request.model = "model";
  request.thinking = true;
  request.messages = json::array({{{"role", "user"}, {"content", "hello"}},
                                  builder.message(),
                                  {{"role", "user"}, {"content", "again"}}});
  HttpCall call = chosen.stream_call(request);
  FUZZ_CHECK(!json::parse(call.body, nullptr, false).is_discarded());

  for (long status : {400L, 429L, 503L}) {
    ProviderError error = chosen.parse_error(status, std::string(body), std::string(body));
    check_message(error.message);
  }
  return 0;
}
