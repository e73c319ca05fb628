// chatd's composition root: parses the command line and wires the pieces for each command.
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <pqxx/pqxx>

#include "sql/migrate.hpp"
#include "sql/search_language.hpp"
#include "worker/commands.hpp"
#include "worker/config.hpp"
#include "worker/log.hpp"
#include "worker/manual.hpp"
#include "worker/master.hpp"
#include "worker/mcp_config.hpp"
#include "worker/provider_config.hpp"

namespace {

namespace po = boost::program_options;
using namespace chatd;

struct Command {
  std::vector<std::string> words;  // {"users", "create"}
  std::string summary;
  std::function<void(po::options_description&, po::positional_options_description&)> options;
  std::function<int(const po::variables_map&, const std::vector<std::string>& args)> run;
};

ServeSettings serve_settings(const po::variables_map& values) {
  return {config::general(values), config::serve(values), config::providers(values),
          config::mcp_servers(values)};
}

int serve(const po::variables_map& values, const std::vector<std::string>& args) {
  auto settings = serve_settings(values);
  if (!commands::check_models_in_child(settings.providers)) return 2;
  // SIGHUP re-reads the same sources: the file may have changed.
  auto reload = [args] {
    po::options_description options;
    options.add(config::general_options()).add(config::serve_options());
    auto settings = serve_settings(config::load(args, options));
    if (!commands::check_models_in_child(settings.providers))
      throw config::ConfigError("provider: the models are invalid (see above)");
    return settings;
  };
  return run_master(settings, reload);
}

int migrate(const po::variables_map& values, const std::vector<std::string>&) {
  auto general = config::general(values);
  pqxx::connection conn(general.database_url);
  auto result = sql::migrate(conn, sql::order_migrations(sql::embedded_migrations()));
  for (const auto& name : result.applied) std::cout << "applied " << name << "\n";
  if (sql::set_search_language(conn, general.search_language))
    std::cout << "search language " << general.search_language << ", index rebuilt\n";
  std::cout << "schema version " << result.current_version << "\n";
  return 0;
}

int config_check(const po::variables_map& values, const std::vector<std::string>&) {
  auto settings = serve_settings(values);
  po::options_description shown;
  shown.add(config::general_options()).add(config::serve_options());
  std::cout << config::describe(values, shown) << config::describe_providers(settings.providers)
            << config::describe_mcp_servers(settings.mcp_servers);
  return 0;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::vector<Command> command_table();

// chatd manual chatd.8 | chatd.conf.5: the manual page, in roff (worker/manual.hpp).
int manual(const po::variables_map& values) {
  std::string page = values.count("page") ? values["page"].as<std::string>() : "";
  if (page == "chatd.8") {
    std::vector<ManualCommand> commands;
    for (const auto& c : command_table())
      if (c.words.front() != "manual") commands.push_back({joined(c.words), c.summary});
    std::cout << manual_chatd(CHATD_VERSION, commands, config::general_options());
  } else if (page == "chatd.conf.5") {
    po::options_description keys;
    keys.add(config::general_options()).add(config::serve_options());
    std::cout << manual_chatd_conf(CHATD_VERSION, keys);
  } else {
    std::cerr << "chatd manual: which page? chatd.8 or chatd.conf.5\n";
    return 2;
  }
  return 0;
}

std::vector<Command> command_table() {
  using namespace chatd::commands;
  auto none = [](po::options_description&, po::positional_options_description&) {};
  auto with = [](auto add) {
    return [add](po::options_description& o, po::positional_options_description&) { add(o); };
  };
  auto plain = [](int (*fn)(const po::variables_map&)) {
    return [fn](const po::variables_map& v, const std::vector<std::string>&) { return fn(v); };
  };
  return {
      {{"serve"},
       "run the server: the master and its pre-forked workers",
       [](po::options_description& o, po::positional_options_description&) {
         o.add(config::serve_options());
       },
       serve},
      {{"migrate"}, "apply pending database migrations", none, migrate},
      {{"config", "check"},
       "print the effective configuration (secrets masked); fail on an invalid one",
       [](po::options_description& o, po::positional_options_description&) {
         o.add(config::serve_options());
       },
       config_check},
      {{"tools"},
       "list the tools the model will see (from the MCP servers)",
       [](po::options_description& o, po::positional_options_description&) {
         o.add(config::serve_options());
       },
       plain(tools)},
      {{"models"},
       "list the models the configured providers offer",
       [](po::options_description& o, po::positional_options_description&) {
         o.add(config::serve_options());
       },
       plain(models)},
      {{"usage"},
       "every user's model calls and their cost this month (or --start/--end), dearest first",
       with(add_usage_options),
       plain(usage)},
      {{"status"},
       "show the workers and the requests they run now (fetched from nginx's /status)",
       with(add_status_options),
       plain(status)},
      {{"users", "create"},
       "create a user; prints its id",
       with(add_users_create_options),
       plain(users_create)},
      {{"users", "list"}, "list users", none, plain(users_list)},
      {{"users", "suspend"},
       "suspend a user: their tokens stop working",
       add_username_argument,
       plain(users_suspend)},
      {{"users", "activate"},
       "reactivate a suspended user",
       add_username_argument,
       plain(users_activate)},
      {{"users", "budget"},
       "show a user's budget and spend, or set their own: 'period=day|week|month;limit-usd=N', "
       "none (no budget) or default (the configuration's)",
       add_users_budget_options,
       plain(users_budget)},
      {{"tokens", "create"},
       "create an API token; prints it (only this once)",
       with(add_tokens_create_options),
       plain(tokens_create)},
      {{"tokens", "list"},
       "list a user's tokens (never their secrets)",
       with(add_tokens_list_options),
       plain(tokens_list)},
      {{"tokens", "revoke"},
       "revoke a token by its id",
       add_token_id_argument,
       plain(tokens_revoke)},
      {{"manual"},
       "print a manual page in roff: chatd.8 or chatd.conf.5 (for the package build)",
       [](po::options_description& o, po::positional_options_description& p) {
         o.add_options()("page", po::value<std::string>(), "chatd.8 or chatd.conf.5");
         p.add("page", 1);
       },
       plain(manual)},
  };
}

void usage(std::ostream& out, const std::vector<Command>& table) {
  out << "chatd: a self-hosted agentic chat server (Coder's /api/v2/chats API).\n\n"
         "Usage: chatd <command> [options]\n\nCommands:\n";
  for (const auto& c : table) {
    std::string name = joined(c.words);
    out << "  " << name << std::string(name.size() < 18 ? 18 - name.size() : 1, ' ') << c.summary
        << "\n";
  }
  out << "\n" << config::general_options() << "\nRun 'chatd <command> --help' for its options.\n";
}

}  // namespace

int main(int argc, char** argv) {
  // libpq defaults that suit a server; a connection string may still override them.
  setenv("PGCONNECT_TIMEOUT", "5", /*overwrite=*/0);
  setenv("PGAPPNAME", "chatd", 0);

  std::vector<std::string> args(argv + 1, argv + argc);
  auto table = command_table();
  const Command* command = nullptr;
  for (const auto& c : table) {
    if (args.size() >= c.words.size() && std::equal(c.words.begin(), c.words.end(), args.begin()))
      command = &c;
  }
  if (args.size() == 1 && (args[0] == "--version" || args[0] == "version")) {
    std::cout << "chatd " << CHATD_VERSION << "\n";
    return 0;
  }
  if (!command) {
    bool asked = !args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help");
    usage(asked ? std::cout : std::cerr, table);
    if (!asked && !args.empty()) std::cerr << "\nchatd: unknown command \"" << args[0] << "\"\n";
    return asked ? 0 : 2;
  }
  args.erase(args.begin(), args.begin() + static_cast<long>(command->words.size()));

  po::options_description options("Options of 'chatd " + joined(command->words) + "'");
  po::positional_options_description positional;
  options.add(config::general_options());
  command->options(options, positional);
  if (std::find(args.begin(), args.end(), "--help") != args.end() ||
      std::find(args.begin(), args.end(), "-h") != args.end()) {
    std::cout << "Usage: chatd " << joined(command->words) << " [options]\n"
              << command->summary << "\n\n"
              << options
              << "\nEvery option may also come from the environment as CHATD_<OPTION> (dashes as\n"
                 "underscores) or from the --config file; the command line wins over both.\n";
    return 0;
  }
  try {
    auto values = config::load(args, options, positional);
    log::set_level(config::general(values).log_level);
    return command->run(values, args);
  } catch (const config::ConfigError& e) {
    std::cerr << "chatd: invalid configuration: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "chatd: " << e.what() << "\n";
    return 1;
  }
}
