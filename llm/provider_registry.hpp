// The provider types chatd knows, in one table: the name a configuration gives (`type=`), the
// name users read, Coder's API-key shortcut variable and the factory. Configuration, messages
// and metrics read this table; adding a provider type is a row here plus its own file.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "llm/provider.hpp"

namespace chatd::llm {

// Each defined in the provider's own file.
std::unique_ptr<Provider> make_openai_provider(const ProviderConfig& config);
std::unique_ptr<Provider> make_anthropic_provider(const ProviderConfig& config);
std::unique_ptr<Provider> make_google_provider(const ProviderConfig& config);

struct ProviderType {
  std::string_view type;              // "openai"
  std::string_view display_name;      // "OpenAI"
  std::string_view api_key_variable;  // "OPENAI_API_KEY"; empty: no shortcut
  std::unique_ptr<Provider> (*make)(const ProviderConfig& config);
};

inline constexpr std::array<ProviderType, 3> kProviderTypes = {{
    {"openai", "OpenAI", "OPENAI_API_KEY", make_openai_provider},
    {"anthropic", "Anthropic", "ANTHROPIC_API_KEY", make_anthropic_provider},
    {"google", "Google", "GOOGLE_API_KEY", make_google_provider},
}};

// The row of a type; null for an unknown one.
constexpr const ProviderType* find_provider_type(std::string_view type) {
  for (const auto& row : kProviderTypes)
    if (row.type == type) return &row;
  return nullptr;
}

// The display name of a type; the type itself when it is unknown.
constexpr std::string_view display_name(std::string_view type) {
  const ProviderType* row = find_provider_type(type);
  return row ? row->display_name : type;
}

// "openai, anthropic or google": the known types, for error messages.
std::string provider_type_list();

// Throws std::invalid_argument naming the type for an unknown one.
std::unique_ptr<Provider> make_provider(const ProviderConfig& config);

}  // namespace chatd::llm
