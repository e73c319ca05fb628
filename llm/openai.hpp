// OpenAI's text fast path, exposed (with a mapper that can go without it) so that tests and
// the fuzz target compare the two paths. The provider itself comes from the registry.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "llm/provider.hpp"

namespace chatd::llm::detail {

// The delta.content of a chunk that is a plain text delta and nothing else the stream mapper
// acts on; nothing for any other chunk (the mapper parses that one whole).
std::optional<std::string> openai_text_delta(std::string_view chunk);
std::unique_ptr<StreamMapper> openai_stream_mapper(bool text_fast_path);

}  // namespace chatd::llm::detail
