// One worker process: T request threads, each looping accept → handle → finish on the shared
// FastCGI socket, and a main thread that waits for the signal to drain.
#pragma once

#include <sys/types.h>

#include <vector>

#include "llm/mcp_client.hpp"
#include "llm/provider.hpp"
#include "worker/config.hpp"
#include "worker/scoreboard.hpp"

namespace chatd {

struct WorkerSetup {
  int listen_fd;
  int ready_fd;      // a byte is written here once the threads accept
  pid_t master_pid;  // the worker drains when it is re-parented away from it
  config::General general;
  config::Serve serve;
  std::vector<llm::ProviderConfig> providers;
  std::vector<llm::McpServerConfig> mcp_servers;
  scoreboard::Scoreboard* board = nullptr;  // shared with the master and the other workers
  int board_slot = -1;                      // this worker's record; -1: none was free
};

// Runs in the child right after fork(); never returns. Exits 0 after a clean drain (SIGTERM,
// the master gone, or --max-requests reached), 1 when the drain deadline passed.
[[noreturn]] void run_worker(const WorkerSetup& setup);

}  // namespace chatd
