#include "worker/manual.hpp"

#include <sstream>

namespace chatd {

namespace po = boost::program_options;

namespace {

// Text as roff reads it: backslashes written out, hyphens as minus signs, no line that begins
// with a control character, and a place to break a long value after each ';' and '|'.
std::string roff(const std::string& text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
      if (c == ';' || c == '|') out += "\\:";
    }
    line_start = c == '\n';
  }
  return out;
}

std::string header(const std::string& name, int section, const std::string& version,
                   const std::string& title) {
  // Left-adjusted: values such as a provider's spec are long words that cannot be justified.
  return ".TH " + name + " " + std::to_string(section) + " \"\" \"chatd " + version + "\" \"" +
         title + "\"\n.ad l\n";
}

// One option: its key and argument in bold and italics, then what it does.
void describe_option(std::ostringstream& out, const po::option_description& option, bool as_key) {
  std::string name = option.long_name();
  if (name == "help" || (name == "config" && as_key)) return;
  std::string parameter = option.format_parameter();  // "arg (=default)" or ""
  out << ".TP\n";
  if (as_key) {
    out << "\\fB" << roff(name) << "\\fR = \\fIvalue\\fR";
  } else {
    out << "\\fB\\-\\-" << roff(name) << "\\fR";
    if (!parameter.empty()) out << " \\fIvalue\\fR";
  }
  auto open = parameter.find("(=");
  if (open != std::string::npos)
    out << " (default: " << roff(parameter.substr(open + 2, parameter.size() - open - 3)) << ")";
  out << "\n" << roff(option.description()) << "\n";
}

}  // namespace

std::string manual_chatd(const std::string& version, const std::vector<ManualCommand>& commands,
                         const po::options_description& general) {
  std::ostringstream out;
  out << header("CHATD", 8, version, "System Manager's Manual")
      << ".SH NAME\nchatd \\- self\\-hosted agentic chat server (FastCGI)\n"
      << ".SH SYNOPSIS\n.B chatd\n.I command\n[\\fIoptions\\fR]\n.br\n.B chatd \\-\\-version\n"
      << ".SH DESCRIPTION\n"
      << "chatd serves Coder's agentic chat API (/api/v2/chats) behind nginx, over FastCGI: "
         "users create chats, send messages and get the model's reply streamed back in the "
         "Vercel AI SDK data stream format, while chatd runs the model's tool calls (MCP) and "
         "stores every message in PostgreSQL.\n"
      << ".SH COMMANDS\n";
  for (const auto& command : commands)
    out << ".TP\n\\fB" << roff(command.name) << "\\fR\n" << roff(command.summary) << "\n";
  out << ".SH OPTIONS\nEvery command takes these; \\fBchatd\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR "
         "lists the options of one command.\n";
  for (const auto& option : general.options()) describe_option(out, *option, false);
  out << ".SH ENVIRONMENT\nEvery option may also be given as \\fBCHATD_\\fR\\fIOPTION\\fR (upper "
         "case, dashes as underscores), e.g. CHATD_DB_POOL_SIZE=32. The command line wins over "
         "the environment, which wins over the configuration file.\n"
      << ".SH FILES\n.TP\n/etc/chatd/chatd.conf\nThe configuration, see \\fBchatd.conf\\fR(5).\n"
      << ".TP\n/run/chatd/chatd.sock\nThe FastCGI socket nginx connects to (chatd.socket).\n"
      << ".SH SEE ALSO\n\\fBchatd.conf\\fR(5), \\fBnginx\\fR(8), \\fBsystemctl\\fR(1); "
         "/usr/share/doc/chatd/README.md\n";
  return out.str();
}

std::string manual_chatd_conf(const std::string& version, const po::options_description& keys) {
  std::ostringstream out;
  out << header("CHATD.CONF", 5, version, "File Formats Manual")
      << ".SH NAME\nchatd.conf \\- configuration of chatd\n"
      << ".SH DESCRIPTION\n/etc/chatd/chatd.conf is read by \\fBchatd\\fR(8) with "
         "\\fB\\-\\-config\\fR. One \\fIkey\\fR = \\fIvalue\\fR per line; lines beginning with "
         "# are comments. Keys that take several values (provider, model\\-price, mcp\\-server) "
         "may repeat. Every key may also be given on the command line as \\fB\\-\\-\\fR\\fIkey\\fR "
         "or in the environment as \\fBCHATD_\\fR\\fIKEY\\fR; the command line wins over the "
         "environment, which wins over this file. \\fBchatd config check\\fR prints the "
         "configuration in effect and fails on an invalid one. SIGHUP (\\fBsystemctl reload "
         "chatd\\fR) reads it again and replaces the workers one at a time.\n"
      << ".SH KEYS\n";
  for (const auto& option : keys.options()) describe_option(out, *option, true);
  out << ".SH SEE ALSO\n\\fBchatd\\fR(8); /usr/share/doc/chatd/README.md\n";
  return out.str();
}

}  // namespace chatd
