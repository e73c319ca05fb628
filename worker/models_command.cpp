// chatd models: the models the configured providers offer, as the API will list them.
#include <curl/curl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>

#include "llm/catalog.hpp"
#include "worker/commands.hpp"
#include "worker/log.hpp"
#include "worker/provider_config.hpp"

namespace chatd::commands {

namespace {

// Builds the catalog (fetching model lists where none is configured). Returns false for a
// configuration that must not start: a model offered twice.
bool load_catalog(const std::vector<llm::ProviderConfig>& providers, bool print) {
  curl_global_init(CURL_GLOBAL_ALL);
  llm::Transport transport({});
  std::vector<std::string> problems;
  try {
    auto catalog = llm::ModelCatalog::build(providers, transport, problems);
    if (print) {
      std::printf("%-10s  %s\n", "PROVIDER", "MODEL");
      for (const auto& model : catalog.models())
        std::printf("%-10s  %s\n", model.provider_type.c_str(), model.id.c_str());
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "chatd: invalid configuration: " << e.what() << "\n";
    return false;
  }
  for (const auto& problem : problems) std::cerr << "chatd: warning: " << problem << "\n";
  return true;
}

}  // namespace

int models(const po::variables_map& values) {
  auto providers = config::providers(values);
  if (providers.empty()) {
    std::cerr << "chatd: no provider is configured (see README, \"Providers\")\n";
    return 1;
  }
  return load_catalog(providers, /*print=*/true) ? 0 : 2;
}

bool check_models_in_child(const std::vector<llm::ProviderConfig>& providers) {
  // In a child, so that the master itself never initialises libcurl before it forks workers.
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) ::_exit(load_catalog(providers, /*print=*/false) ? 0 : 2);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace chatd::commands
