#include "worker/listen_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace chatd {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

ListenSocket open_unix(const std::string& path, unsigned mode, const std::string& group) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    throw std::runtime_error("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) fail("socket");
  // A socket file left by a crashed instance would make bind fail; a live one must not be
  // stolen, so only a path nobody answers on is removed.
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw std::runtime_error(path + " exists and is not a socket");
    Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
      throw std::runtime_error(path + " is in use by another process");
    ::unlink(path.c_str());
  }
  mode_t old_umask = ::umask(0177);
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old_umask);
  if (rc < 0) fail("bind " + path);
  if (!group.empty()) {
    struct group* g = ::getgrnam(group.c_str());
    if (!g) throw std::runtime_error("socket-group: no such group \"" + group + "\"");
    if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) < 0) fail("chown " + path);
  }
  if (::chmod(path.c_str(), mode) < 0) fail("chmod " + path);
  if (::listen(fd.get(), SOMAXCONN) < 0) fail("listen " + path);
  return {fd.release(), "unix:" + path, path};
}

ListenSocket open_tcp(const std::string& listen) {
  size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  int port = std::stoi(listen.substr(colon + 1));
  if (port <= 0 || port > 65535) throw std::runtime_error("listen: bad port in " + listen);
  bool v6 = host.size() > 2 && host.front() == '[';
  if (v6) host = host.substr(1, host.size() - 2);
  Fd fd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) fail("socket");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (v6) {
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET6, host.c_str(), &addr.sin6_addr) != 1)
      throw std::runtime_error("listen: bad address " + host);
    rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
      throw std::runtime_error("listen: bad address " + host);
    rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  if (rc < 0) fail("bind " + listen);
  if (::listen(fd.get(), SOMAXCONN) < 0) fail("listen " + listen);
  return {fd.release(), listen, ""};
}

}  // namespace

ListenSocket open_listen_socket(const std::string& listen, unsigned mode,
                                const std::string& group) {
  ListenSocket socket;
  int n = sd_listen_fds(/*unset_environment=*/1);
  if (n > 1)
    throw std::runtime_error("systemd passed " + std::to_string(n) + " sockets; expected 1");
  if (n == 1)
    socket = {SD_LISTEN_FDS_START, "systemd fd " + std::to_string(SD_LISTEN_FDS_START), ""};
  else if (listen.rfind("unix:", 0) == 0)
    socket = open_unix(listen.substr(5), mode, group);
  else
    socket = open_tcp(listen);
  // Workers wait for connections with epoll and must never block in accept() (see
  // worker_process.cpp); accepted connections do not inherit the flag.
  int flags = ::fcntl(socket.fd, F_GETFL);
  if (flags < 0 || ::fcntl(socket.fd, F_SETFL, flags | O_NONBLOCK) < 0) fail("fcntl O_NONBLOCK");
  return socket;
}

}  // namespace chatd
