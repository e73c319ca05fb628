// The message accumulator: the input is data-stream lines, `CODE:JSON` (STREAM-PROTOCOL.md
// §1), applied in order to a MessageBuilder. Lines that are not `C:JSON` are skipped; parts of
// any code and any payload are applied. The builder must take malformed payloads without
// throwing (it ignores them), keep content equal to the text parts it took, and build a
// message that every provider takes back as history.
#include <memory>
#include <string>

#include "fuzz_check.hpp"
#include "llm/data_stream.hpp"
#include "llm/provider_registry.hpp"

namespace {

using namespace chatd::llm;
using nlohmann::json;

const Provider& provider(int index) {
  static const std::unique_ptr<Provider> providers[] = {
      make_provider({"openai", "sk-fuzz", "", {}}),
      make_provider({"anthropic", "sk-fuzz", "", {}}),
      make_provider({"google", "sk-fuzz", "", {}}),
  };
  return *providers[index];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = fuzz_bytes(data, size);
  MessageBuilder builder("msg-fuzz", "2026-01-01T00:00:00.000000Z");
  std::string content;  // the text parts the builder took
  bool thinking = false;
  while (!input.empty()) {
    std::size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    if (line.size() < 2 || line[1] != ':') continue;
    json value = json::parse(line.substr(2), nullptr, false);
    if (value.is_discarded()) continue;
    builder.apply(line[0], value);
    if (line[0] == '0' && value.is_string()) content += value.get<std::string>();
    if (line[0] == 'g') thinking = true;
  }

  const json message = builder.message();
  FUZZ_CHECK(message["role"] == "assistant");
  FUZZ_CHECK(message["id"].is_string());
  FUZZ_CHECK(message["content"] == content);
  FUZZ_CHECK(message["parts"].is_array());
  for (const auto& part : message["parts"])
    FUZZ_CHECK(part.is_object() && part["type"].is_string());
  if (message.contains("toolInvocations"))
    for (const auto& invocation : message["toolInvocations"]) FUZZ_CHECK(invocation.is_object());
  // The reply's checkpoints and the stored message: JSON text that parses back.
  const std::string stored = message.dump(-1, ' ', false, json::error_handler_t::replace);
  FUZZ_CHECK(!json::parse(stored, nullptr, false).is_discarded());

  ModelRequest request;
  request.model = "model";
  request.thinking = thinking;
  request.messages = json::array({{{"role", "user"}, {"content", "hello"}}, message});
  for (int which = 0; which < 3; ++which) {
    HttpCall call = provider(which).stream_call(request);
    FUZZ_CHECK(!json::parse(call.body, nullptr, false).is_discarded());
  }
  return 0;
}
