// `chatd serve`: the master process. It serves nothing itself: it owns the socket, forks the
// workers, restarts those that die, and turns signals into drains and rolling reloads.
#pragma once

#include <functional>
#include <vector>

#include "llm/mcp_client.hpp"
#include "llm/provider.hpp"
#include "worker/config.hpp"

namespace chatd {

struct ServeSettings {
  config::General general;
  config::Serve serve;
  std::vector<llm::ProviderConfig> providers;
  std::vector<llm::McpServerConfig> mcp_servers;
};

// `reload` re-reads the configuration for SIGHUP (it may throw config::ConfigError; the
// running configuration then stays). Returns the process exit code.
int run_master(const ServeSettings& initial, const std::function<ServeSettings()>& reload);

}  // namespace chatd
