// The administrative commands besides `serve`: each takes its parsed options and returns the
// process exit code. main.cpp declares their options and dispatches to them.
#pragma once

#include <boost/program_options.hpp>
#include <vector>

#include "llm/provider.hpp"

namespace chatd::commands {

namespace po = boost::program_options;

void add_users_create_options(po::options_description& options);
int users_create(const po::variables_map& values);
int users_list(const po::variables_map& values);
void add_username_argument(po::options_description& options, po::positional_options_description& p);
int users_suspend(const po::variables_map& values);
int users_activate(const po::variables_map& values);
// chatd users budget NAME [SPEC|none|default]
void add_users_budget_options(po::options_description& options,
                              po::positional_options_description& positional);
int users_budget(const po::variables_map& values);

void add_tokens_create_options(po::options_description& options);
int tokens_create(const po::variables_map& values);
void add_tokens_list_options(po::options_description& options);
int tokens_list(const po::variables_map& values);
void add_token_id_argument(po::options_description& options, po::positional_options_description& p);
int tokens_revoke(const po::variables_map& values);

int models(const po::variables_map& values);

// chatd usage [--start T] [--end T]: every user's calls and cost, the dearest first.
void add_usage_options(po::options_description& options);
int usage(const po::variables_map& values);
int tools(const po::variables_map& values);

// chatd status: GET <url>/status through nginx, printed as a table (or --json).
void add_status_options(po::options_description& options);
int status(const po::variables_map& values);
// Fetches model lists as serve would and refuses a model id offered twice; runs in a child
// process. Prints the reason and returns false when serve must not start.
bool check_models_in_child(const std::vector<llm::ProviderConfig>& providers);

}  // namespace chatd::commands
