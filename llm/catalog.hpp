// The models this deployment offers: every configured provider's models, by id.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "llm/provider.hpp"
#include "llm/transport.hpp"

namespace chatd::llm {

struct Model {
  std::string id;
  std::string display_name;
  std::string provider_type;
  const Provider* provider;
};

class ModelCatalog {
 public:
  ModelCatalog() = default;
  // Providers without a model list get theirs from the provider; one that cannot be reached
  // is reported in `problems` and offers no models. A model id offered twice is an error
  // (std::invalid_argument naming it), not a silent overwrite.
  static ModelCatalog build(const std::vector<ProviderConfig>& providers,
                            const Transport& transport, std::vector<std::string>& problems);

  const Model* find(const std::string& id) const;
  // Sorted by provider type, then id.
  const std::vector<Model>& models() const { return models_; }

 private:
  std::vector<std::unique_ptr<Provider>> providers_;
  std::vector<Model> models_;
};

}  // namespace chatd::llm
