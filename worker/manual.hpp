// The manual pages chatd(8) and chatd.conf(5), in roff, written from the command table and the
// option descriptions themselves, so that they cannot drift from what chatd accepts. The
// package build runs `chatd manual chatd.8` and `chatd manual chatd.conf.5`.
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chatd {

struct ManualCommand {
  std::string name;     // "users create"
  std::string summary;  // one line
};

// chatd(8): the commands, the options every command takes, and where to read on.
std::string manual_chatd(const std::string& version, const std::vector<ManualCommand>& commands,
                         const boost::program_options::options_description& general);
// chatd.conf(5): every key of the configuration file, with its default and meaning.
std::string manual_chatd_conf(const std::string& version,
                              const boost::program_options::options_description& keys);

}  // namespace chatd
