// chatd tools: the tools the model will see, as a worker builds the list.
#include <curl/curl.h>

#include <iostream>

#include "llm/mcp_tools.hpp"
#include "worker/commands.hpp"
#include "worker/config.hpp"
#include "worker/mcp_config.hpp"

namespace chatd::commands {

int tools(const po::variables_map& values) {
  auto servers = config::mcp_servers(values);
  if (servers.empty()) {
    std::cerr << "chatd: no mcp-server is configured: the model gets no tools\n";
    return 0;
  }
  curl_global_init(CURL_GLOBAL_ALL);
  auto serve = config::serve(values);
  bool problems = false;
  llm::McpToolRunner runner(
      servers,
      [&](const std::string& problem) {
        problems = true;
        std::cerr << "chatd: warning: " << problem << "\n";
      },
      serve.mcp_refresh, serve.tool_result_limit);
  runner.refresh();
  for (const auto& tool : runner.tools()) {
    std::string description = tool.description.substr(0, tool.description.find('\n'));
    if (description.size() > 70) description = description.substr(0, 67) + "...";
    std::printf("%-40s  %s\n", tool.name.c_str(), description.c_str());
  }
  return problems ? 1 : 0;
}

}  // namespace chatd::commands
