#include "llm/provider_registry.hpp"

#include <stdexcept>

namespace chatd::llm {

std::string provider_type_list() {
  std::string list;
  for (size_t i = 0; i < kProviderTypes.size(); ++i) {
    if (i > 0) list += i + 1 == kProviderTypes.size() ? " or " : ", ";
    list += kProviderTypes[i].type;
  }
  return list;
}

std::unique_ptr<Provider> make_provider(const ProviderConfig& config) {
  if (const ProviderType* row = find_provider_type(config.type)) return row->make(config);
  throw std::invalid_argument("unknown provider type \"" + config.type + "\" (expected " +
                              provider_type_list() + ")");
}

}  // namespace chatd::llm
