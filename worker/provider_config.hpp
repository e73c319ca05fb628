// The LLM providers of a deployment (API.md §6), from every source: `provider` entries (command
// line > environment CHATD_PROVIDER > config file), Coder's shortcuts OPENAI_API_KEY,
// ANTHROPIC_API_KEY, GOOGLE_API_KEY, and CHATD_AI_PROVIDER_<N>_{TYPE,API_KEY,BASE_URL,MODELS}.
#pragma once

#include <string>
#include <vector>

#include "llm/provider.hpp"
#include "worker/config.hpp"

namespace chatd::config {

// "type=openai;api-key-file=/etc/chatd/openai.key;base-url=http://localhost:11434/v1;
// models=llama3,qwen3". Throws ConfigError naming the problem. Secrets from files, variables and
// systemd credentials ($CREDENTIALS_DIRECTORY) are read here.
llm::ProviderConfig parse_provider(const std::string& spec);

// All providers, in the order: provider entries, then indexed variables, then shortcuts.
std::vector<llm::ProviderConfig> providers(const po::variables_map& values);

// One line per provider for `config check` and `models`, keys masked.
std::string describe_providers(const std::vector<llm::ProviderConfig>& providers);

}  // namespace chatd::config
