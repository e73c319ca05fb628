#include "worker/provider_config.hpp"

#include <cstdlib>
#include <sstream>

#include "llm/provider_registry.hpp"
#include "worker/duration.hpp"

namespace chatd::config {

namespace {

std::string read_secret(const std::string& path, const std::string& what) {
  auto secret = read_secret_file(path);
  if (!secret) throw ConfigError("provider: cannot read " + what + " \"" + path + "\"");
  return *secret;
}

void check(const llm::ProviderConfig& p, const std::string& where) {
  if (!llm::find_provider_type(p.type))
    throw ConfigError(where + ": unknown provider type \"" + p.type + "\" (expected " +
                      llm::provider_type_list() + ")");
  if (!p.base_url.empty() && p.base_url.rfind("http://", 0) != 0 &&
      p.base_url.rfind("https://", 0) != 0)
    throw ConfigError(where + ": base-url must start with http:// or https://");
}

const char* env(const std::string& name) { return std::getenv(name.c_str()); }

}  // namespace

llm::ProviderConfig parse_provider(const std::string& spec) {
  llm::ProviderConfig p;
  for (const auto& [key, value] : key_value_items(spec, "provider")) {
    if (key == "type") {
      p.type = value;
    } else if (key == "api-key") {
      p.api_key = value;
    } else if (key == "api-key-file") {
      p.api_key = read_secret(value, "api-key-file");
    } else if (key == "api-key-env") {
      const char* v = env(value);
      if (!v) throw ConfigError("provider: api-key-env " + value + " is not set");
      p.api_key = v;
    } else if (key == "api-key-credential") {
      const char* dir = env("CREDENTIALS_DIRECTORY");
      if (!dir) throw ConfigError("provider: api-key-credential needs systemd's LoadCredential=");
      p.api_key = read_secret(std::string(dir) + "/" + value, "credential");
    } else if (key == "base-url") {
      p.base_url = value;
    } else if (key == "models") {
      p.models = split_list(value, ',');
    } else {
      throw ConfigError("provider: unknown key \"" + key + "\"");
    }
  }
  check(p, "provider");
  return p;
}

std::vector<llm::ProviderConfig> providers(const po::variables_map& values) {
  std::vector<llm::ProviderConfig> out;
  if (auto it = values.find("provider"); it != values.end())
    for (const auto& spec : it->second.as<std::vector<std::string>>())
      out.push_back(parse_provider(spec));

  // Coder's indexed variables, from 0 with no gaps.
  for (int n = 0;; ++n) {
    std::string prefix = "CHATD_AI_PROVIDER_" + std::to_string(n) + "_";
    const char* type = env(prefix + "TYPE");
    if (!type) {
      if (env("CHATD_AI_PROVIDER_" + std::to_string(n + 1) + "_TYPE"))
        throw ConfigError(prefix + "TYPE: provider " + std::to_string(n) + " skipped");
      break;
    }
    llm::ProviderConfig p;
    p.type = type;
    if (const char* key = env(prefix + "API_KEY")) p.api_key = key;
    if (const char* url = env(prefix + "BASE_URL")) p.base_url = url;
    if (const char* models = env(prefix + "MODELS")) p.models = split_list(models, ',');
    check(p, prefix + "TYPE");
    out.push_back(p);
  }

  for (const auto& row : llm::kProviderTypes) {
    if (row.api_key_variable.empty()) continue;
    if (const char* key = env(std::string(row.api_key_variable)); key && *key)
      out.push_back({std::string(row.type), key, "", {}});
  }
  return out;
}

std::string describe_providers(const std::vector<llm::ProviderConfig>& providers) {
  std::ostringstream out;
  for (const auto& p : providers) {
    out << "provider = type=" << p.type << ";api-key=" << (p.api_key.empty() ? "(none)" : "****");
    if (!p.base_url.empty()) out << ";base-url=" << p.base_url;
    out << ";models=";
    if (p.models.empty()) out << "(from the provider)";
    for (size_t i = 0; i < p.models.size(); ++i) out << (i ? "," : "") << p.models[i];
    out << "\n";
  }
  return out.str();
}

}  // namespace chatd::config
