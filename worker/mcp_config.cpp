#include "worker/mcp_config.hpp"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "worker/duration.hpp"

namespace chatd::config {

llm::McpServerConfig parse_mcp_server(const std::string& spec) {
  llm::McpServerConfig server;
  size_t index = 0;
  for (const auto& field : split_list(spec, ';')) {
    size_t eq = field.find('=');
    ++index;
    if (eq == std::string::npos) throw ConfigError(not_key_value("mcp-server", index, field));
    std::string key = trim(field.substr(0, eq)), value = trim(field.substr(eq + 1));
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
      std::ifstream in(value);
      if (!in) throw ConfigError("mcp-server: cannot read bearer-token-file \"" + value + "\"");
      std::stringstream token;
      token << in.rdbuf();
      server.headers.push_back("Authorization: Bearer " + trim(token.str()));
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
