#include "handlers/deployment.hpp"

namespace chatd::http {

void list_models(Context& context, Request&, ResponseWriter& out) {
  auto models = nlohmann::ordered_json::array();
  for (const auto& model : context.models.models())
    models.push_back({{"id", model.id},
                      {"display_name", model.display_name},
                      {"provider", model.provider_type}});
  nlohmann::ordered_json body = {{"models", models}};
  // API.md §3: the operator's default, when it is one of the models offered (a provider whose
  // list could not be fetched offers none).
  if (const auto& id = context.reply.default_model; !id.empty() && context.models.find(id))
    body["default_model"] = id;
  respond_json(out, 200, body);
}

}  // namespace chatd::http
