#include "worker/mcp_config.hpp"

#include <regex>
#include <set>
#include <sstream>

#include "worker/duration.hpp"

namespace chatd::config {

llm::McpServerConfig parse_mcp_server(const std::string& spec) {
  llm::McpServerConfig server;
  for (const auto& [key, value] : key_value_items(spec, "mcp-server")) {
    if (key == "name") {
      server.name = value;
    } else if (key == "url") {
      server.url = value;
    } else if (key == "timeout") {
      auto timeout = parse_duration(value);
      if (!timeout || timeout->count() == 0)
        throw ConfigError("mcp-server: timeout must be a duration such as 30s");
      server.timeout = *timeout;
    } else if (key == "tools") {
      server.allowed_tools = split_list(value, ',');
    } else if (key == "header") {
      if (value.find(':') == std::string::npos)
        throw ConfigError("mcp-server: header must be \"Name: value\"");
      server.headers.push_back(value);
    } else if (key == "bearer-token-file") {
      auto token = read_secret_file(value);
      if (!token) throw ConfigError("mcp-server: cannot read bearer-token-file \"" + value + "\"");
      server.headers.push_back("Authorization: Bearer " + *token);
    } else {
      throw ConfigError("mcp-server: unknown key \"" + key + "\"");
    }
  }
  static const std::regex kName("^[A-Za-z0-9_-]{1,32}$");
  if (!std::regex_match(server.name, kName))
    throw ConfigError("mcp-server: name must be 1-32 characters of A-Z, a-z, 0-9, _ and -");
  if (server.url.rfind("http://", 0) != 0 && server.url.rfind("https://", 0) != 0)
    throw ConfigError("mcp-server " + server.name + ": url must start with http:// or https://");
  return server;
}

std::vector<llm::McpServerConfig> mcp_servers(const po::variables_map& values) {
  std::vector<llm::McpServerConfig> out;
  std::set<std::string> names;
  if (auto it = values.find("mcp-server"); it != values.end()) {
    for (const auto& spec : it->second.as<std::vector<std::string>>()) {
      out.push_back(parse_mcp_server(spec));
      if (!names.insert(out.back().name).second)
        throw ConfigError("mcp-server: the name \"" + out.back().name + "\" is used twice");
    }
  }
  return out;
}

std::string describe_mcp_servers(const std::vector<llm::McpServerConfig>& servers) {
  std::ostringstream out;
  for (const auto& s : servers) {
    out << "mcp-server = name=" << s.name << ";url=" << s.url
        << ";timeout=" << format_duration(s.timeout);
    if (!s.allowed_tools.empty()) {
      out << ";tools=";
      for (size_t i = 0; i < s.allowed_tools.size(); ++i)
        out << (i ? "," : "") << s.allowed_tools[i];
    }
    for (const auto& header : s.headers)
      out << ";header=" << header.substr(0, header.find(':')) << ": ****";
    out << "\n";
  }
  return out.str();
}

}  // namespace chatd::config
