// The MCP servers whose tools the model may call (API.md §5): `mcp-server` entries, repeatable,
// from the command line, the environment (CHATD_MCP_SERVER) or the config file.
#pragma once

#include <string>
#include <vector>

#include "llm/mcp_client.hpp"
#include "worker/config.hpp"

namespace chatd::config {

// "name=files;url=http://127.0.0.1:3001/mcp;timeout=30s;tools=read,list;
// header=X-Team: blue;bearer-token-file=/etc/chatd/mcp-files.token". Throws ConfigError naming
// the problem. Secrets (headers, token files) are read here and never printed.
llm::McpServerConfig parse_mcp_server(const std::string& spec);

std::vector<llm::McpServerConfig> mcp_servers(const po::variables_map& values);

// One line per server for `config check`, header values masked.
std::string describe_mcp_servers(const std::vector<llm::McpServerConfig>& servers);

}  // namespace chatd::config
