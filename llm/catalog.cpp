#include "llm/catalog.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "llm/provider_registry.hpp"

namespace chatd::llm {

ModelCatalog ModelCatalog::build(const std::vector<ProviderConfig>& providers,
                                 const Transport& transport, std::vector<std::string>& problems) {
  ModelCatalog catalog;
  std::map<std::string, std::string> owner;  // model id -> provider type
  for (const auto& config : providers) {
    auto provider = make_provider(config);
    std::vector<std::string> ids = config.models;
    if (ids.empty()) {
      auto result = transport.fetch(provider->list_models_call());
      if (result.status == 200) {
        try {
          ids = provider->parse_model_list(result.body);
        } catch (const std::exception& e) {
          problems.push_back(config.type + ": unreadable model list");
        }
      } else {
        problems.push_back(
            config.type + ": cannot list models (" +
            (result.status ? "HTTP " + std::to_string(result.status) : result.error) + ")");
      }
    }
    for (const auto& id : ids) {
      auto [it, fresh] = owner.emplace(id, config.type);
      if (!fresh)
        throw std::invalid_argument("model \"" + id + "\" is configured twice (" + it->second +
                                    " and " + config.type + ")");
      catalog.models_.push_back({id, id, config.type, provider.get()});
    }
    catalog.providers_.push_back(std::move(provider));
  }
  std::sort(catalog.models_.begin(), catalog.models_.end(), [](const Model& a, const Model& b) {
    return std::tie(a.provider_type, a.id) < std::tie(b.provider_type, b.id);
  });
  return catalog;
}

const Model* ModelCatalog::find(const std::string& id) const {
  for (const auto& model : models_)
    if (model.id == id) return &model;
  return nullptr;
}

}  // namespace chatd::llm
