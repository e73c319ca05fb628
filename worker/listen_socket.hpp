// The FastCGI listening socket: inherited from systemd socket activation, or made here.
#pragma once

#include <string>

namespace chatd {

struct ListenSocket {
  int fd = -1;
  std::string description;  // for logs: "unix:/run/chatd/chatd.sock", "systemd fd 3", ...
  std::string unix_path;    // set when chatd created a unix socket (removed at exit)
};

// Takes the socket systemd passed (LISTEN_FDS), else binds `listen` (unix:/path or
// ADDRESS:PORT). The socket is non-blocking. Throws std::runtime_error with the reason.
ListenSocket open_listen_socket(const std::string& listen, unsigned mode, const std::string& group);

}  // namespace chatd
