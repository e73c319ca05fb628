// The floor of this stack for the non-streaming benchmarks: the least a libfcgi + libpqxx
// worker can do to answer GET /api/v2/chats and GET /api/v2/chats/{chat}/messages with the
// same bytes as chatd. Pre-forked processes × threads × a small connection pool, like chatd,
// but each request is exactly one prepared SELECT (token check and data in one round trip),
// the secret's SHA-256 compared in process, and the JSON built with nlohmann like chatd's.
// Not part of the main build: bench/nonstreaming.sh compiles it with one g++ line.
//
//   floor_worker --listen PATH --database-url URL [--workers 2] [--threads 64] [--pool 16]
#include <fcgiapp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

namespace {

// The token check and the list in one statement: no key, a wrong secret, an expired key or a
// suspended user all come back as "not found" here (the floor answers them all with 401).
constexpr const char* kListChats = R"(
SELECT encode(k.hashed_secret, 'hex'), c.id, chatd_time(c.created_at), chatd_time(c.updated_at),
       c.title,
       EXISTS (SELECT 1 FROM chat_replies r WHERE r.chat_id = c.id AND r.finished_at IS NULL)
  FROM api_keys k
  JOIN users u ON u.id = k.user_id AND u.status = 'active'
  LEFT JOIN chats c ON c.owner_id = k.user_id
 WHERE k.id = $1 AND k.expires_at > now()
 ORDER BY c.created_at DESC, c.id DESC)";

constexpr const char* kListMessages = R"(
SELECT encode(k.hashed_secret, 'hex'), m.content::text
  FROM api_keys k
  JOIN users u ON u.id = k.user_id AND u.status = 'active'
  JOIN chats c ON c.id = $2 AND c.owner_id = k.user_id
  LEFT JOIN chat_messages m ON m.chat_id = c.id
 WHERE k.id = $1 AND k.expires_at > now()
 ORDER BY m.created_at, m.id)";

class Pool {
 public:
  Pool(std::string url, size_t size) : url_(std::move(url)), size_(size) {}

  template <typename F>
  auto run(F&& f) {
    std::unique_ptr<pqxx::connection> conn;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return !idle_.empty() || created_ < size_; });
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++created_;
      }
    }
    if (!conn) {
      conn = std::make_unique<pqxx::connection>(url_);
      conn->prepare("list_chats", kListChats);
      conn->prepare("list_messages", kListMessages);
    }
    struct Back {
      Pool& pool;
      std::unique_ptr<pqxx::connection>& conn;
      ~Back() {
        {
          std::lock_guard lock(pool.mutex_);
          pool.idle_.push_back(std::move(conn));
        }
        pool.cv_.notify_one();
      }
    } back{*this, conn};
    return f(*conn);
  }

 private:
  std::string url_;
  size_t size_, created_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
};

std::string sha256_hex(const std::string& s) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), digest, &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

void reply(FCGX_Request& r, int status, const std::string& body) {
  std::string head = "Status: " + std::to_string(status) +
                     "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  FCGX_PutStr(head.data(), static_cast<int>(head.size()), r.out);
  FCGX_PutStr(body.data(), static_cast<int>(body.size()), r.out);
}

void handle(Pool& pool, FCGX_Request& r) {
  const char* uri = FCGX_GetParam("DOCUMENT_URI", r.envp);
  const char* token = FCGX_GetParam("HTTP_CODER_SESSION_TOKEN", r.envp);
  std::string path = uri ? uri : "", tok = token ? token : "";
  auto dash = tok.find('-');
  if (dash == std::string::npos) return reply(r, 401, R"({"message":"unauthorized"})");
  std::string id = tok.substr(0, dash), hashed = sha256_hex(tok.substr(dash + 1));
  auto authorized = [&](const pqxx::result& rows) {
    return !rows.empty() && CRYPTO_memcmp(rows[0][0].c_str(), hashed.data(), hashed.size()) == 0;
  };

  constexpr std::string_view kChats = "/api/v2/chats", kMessages = "/messages";
  if (path == kChats) {
    auto body = pool.run([&](pqxx::connection& c) -> std::string {
      pqxx::nontransaction tx(c);
      auto rows = tx.exec_prepared("list_chats", id);
      if (!authorized(rows)) return {};
      auto list = nlohmann::ordered_json::array();
      for (const auto& row : rows) {
        if (row[1].is_null()) continue;
        list.push_back({{"id", row[1].c_str()},
                        {"created_at", row[2].c_str()},
                        {"updated_at", row[3].c_str()},
                        {"title", row[4].c_str()},
                        {"status", row[5].as<bool>() ? "running" : "idle"}});
      }
      return list.dump();
    });
    return body.empty() ? reply(r, 401, R"({"message":"unauthorized"})") : reply(r, 200, body);
  }
  if (path.size() > kChats.size() + 1 + kMessages.size() && path.starts_with(kChats) &&
      path.ends_with(kMessages)) {
    std::string chat =
        path.substr(kChats.size() + 1, path.size() - kChats.size() - 1 - kMessages.size());
    auto body = pool.run([&](pqxx::connection& c) -> std::string {
      pqxx::nontransaction tx(c);
      auto rows = tx.exec_prepared("list_messages", id, chat);
      if (!authorized(rows)) return {};
      std::string out = "[";
      for (const auto& row : rows) {
        if (row[1].is_null()) continue;
        if (out.size() > 1) out += ',';
        out += row[1].c_str();
      }
      return out + "]";
    });
    return body.empty() ? reply(r, 404, R"({"message":"not found"})") : reply(r, 200, body);
  }
  reply(r, 404, R"({"message":"Route not found."})");
}

void serve_process(int listen_fd, const std::string& url, int threads, size_t pool_size) {
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  FCGX_Init();
  // libfcgi's SIGTERM handler only flags a shutdown that threads blocked in accept never see.
  ::signal(SIGTERM, SIG_DFL);
  Pool pool(url, pool_size);
  std::vector<std::thread> all;
  for (int i = 0; i < threads; ++i)
    all.emplace_back([&] {
      FCGX_Request r;
      FCGX_InitRequest(&r, listen_fd, 0);
      while (FCGX_Accept_r(&r) == 0) {
        try {
          handle(pool, r);
        } catch (const std::exception& e) {
          reply(r, 500, R"({"message":"internal error"})");
          std::fprintf(stderr, "floor_worker: %s\n", e.what());
        }
        FCGX_Finish_r(&r);
      }
    });
  for (auto& t : all) t.join();
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen, url;
  int workers = 2, threads = 64;
  size_t pool = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--listen")
      listen = v;
    else if (k == "--database-url")
      url = v;
    else if (k == "--workers")
      workers = std::stoi(v);
    else if (k == "--threads")
      threads = std::stoi(v);
    else if (k == "--pool")
      pool = std::stoul(v);
  }
  if (listen.empty() || url.empty()) {
    std::fprintf(stderr,
                 "usage: floor_worker --listen PATH --database-url URL [--workers N] "
                 "[--threads N] [--pool N]\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  int fd = FCGX_OpenSocket(listen.c_str(), 1024);
  ::chmod(listen.c_str(), 0666);
  std::vector<pid_t> children;
  for (int i = 0; i < workers; ++i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      serve_process(fd, url, threads, pool);
      ::_exit(0);
    }
    children.push_back(pid);
  }
  std::printf("floor_worker ready\n");
  std::fflush(stdout);
  // SIGTERM ends the parent; the children follow through PR_SET_PDEATHSIG.
  for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
  return 0;
}
