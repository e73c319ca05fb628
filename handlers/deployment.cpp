#include "handlers/deployment.hpp"

namespace chatd::http {

void list_models(Context& context, Request&, ResponseWriter& out) {
  auto models = nlohmann::ordered_json::array();
  for (const auto& model : context.models.models())
    models.push_back({{"id", model.id},
                      {"display_name", model.display_name},
                      {"provider", model.provider_type}});
  respond_json(out, 200, {{"models", models}});
}

}  // namespace chatd::http
