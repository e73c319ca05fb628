// Configuration: precedence (default < INI file < CHATD_ environment < command line), refusal
// of unknown names, validation of serve options, and masking of the database password.
#include "worker/config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "worker/mcp_config.hpp"
#include "worker/provider_config.hpp"

extern char** environ;

namespace chatd::config {
namespace {

po::options_description serve_command_options() {
  po::options_description options;
  options.add(general_options()).add(serve_options());
  return options;
}

// Clears every CHATD_ variable for the test (so the caller's environment cannot change the
// result) and restores the environment afterwards, including whatever a test set.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (char** env = environ; env && *env; ++env) {
      std::string entry(*env);
      if (!entry.starts_with("CHATD_")) continue;
      size_t eq = entry.find('=');
      saved_.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
    }
    for (const auto& [name, value] : saved_) unsetenv(name.c_str());
  }

  void TearDown() override {
    for (const auto& name : set_) unsetenv(name.c_str());
    for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
    for (const auto& path : files_) unlink(path.c_str());
  }

  void set_env(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), 1);
    set_.push_back(name);
  }

  // A temporary INI file with these contents; removed in TearDown.
  std::string ini(const std::string& contents) {
    char path[] = "/tmp/chatd-config-test-XXXXXX";
    int fd = mkstemp(path);
    EXPECT_GE(fd, 0) << std::strerror(errno);
    if (fd < 0) return "/nonexistent";
    EXPECT_EQ(write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
    close(fd);
    files_.emplace_back(path);
    return path;
  }

  po::variables_map load_serve(const std::vector<std::string>& args) {
    return load(args, serve_command_options());
  }

  std::string value(const po::variables_map& values, const char* key) {
    return values.at(key).as<std::string>();
  }

  // The ConfigError message of serve() for these command-line words, or "" if none.
  std::string serve_error(const std::vector<std::string>& args) {
    try {
      serve(load_serve(args));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }

 private:
  std::vector<std::pair<std::string, std::string>> saved_;
  std::vector<std::string> set_;
  std::vector<std::string> files_;
};

TEST_F(ConfigTest, Defaults) {
  auto values = load_serve({});
  EXPECT_EQ(value(values, "threads"), "4");
  EXPECT_TRUE(values.at("threads").defaulted());
  EXPECT_EQ(value(values, "db-pool-size"), "8");
  EXPECT_EQ(value(values, "database-url"), "postgresql:///chatd");
  EXPECT_EQ(value(values, "log-level"), "info");
  EXPECT_EQ(value(values, "listen"), "unix:/run/chatd/chatd.sock");

  auto s = serve(values);
  EXPECT_EQ(s.listen, "unix:/run/chatd/chatd.sock");
  EXPECT_EQ(s.socket_mode, 0660u);
  EXPECT_EQ(s.socket_group, "");
  EXPECT_EQ(s.threads, 4u);
  EXPECT_EQ(s.max_readers_per_reply, 256);
  EXPECT_EQ(s.db_pool_size, 8u);
  EXPECT_EQ(s.max_requests, 0u);
  EXPECT_EQ(s.max_body_size, 4u << 20);
  EXPECT_EQ(s.shutdown_timeout, std::chrono::seconds(30));
  auto g = general(values);
  EXPECT_EQ(g.config_file, "");
  EXPECT_EQ(g.database_url, "postgresql:///chatd");
  EXPECT_EQ(g.log_level, "info");
}

TEST_F(ConfigTest, IniFileOverridesDefaults) {
  auto path = ini("threads = 8\ndb-pool-size = 4\n# a comment\n\nlog-level = debug\n");
  auto values = load_serve({"--config", path});
  EXPECT_EQ(value(values, "threads"), "8");
  EXPECT_EQ(value(values, "db-pool-size"), "4");
  EXPECT_EQ(value(values, "log-level"), "debug");
  EXPECT_EQ(value(values, "listen"), "unix:/run/chatd/chatd.sock");  // not in the file
  EXPECT_EQ(serve(values).threads, 8u);
}

TEST_F(ConfigTest, EnvironmentOverridesIniFile) {
  auto path = ini("threads = 8\ndb-pool-size = 4\n");
  set_env("CHATD_THREADS", "16");
  set_env("CHATD_DB_POOL_SIZE", "5");
  auto values = load_serve({"--config", path});
  EXPECT_EQ(value(values, "threads"), "16");
  EXPECT_EQ(value(values, "db-pool-size"), "5");
}

TEST_F(ConfigTest, EnvironmentOverridesDefaults) {
  set_env("CHATD_THREADS", "3");
  auto values = load_serve({});
  EXPECT_EQ(value(values, "threads"), "3");
  EXPECT_EQ(value(values, "db-pool-size"), "8");
}

TEST_F(ConfigTest, CommandLineOverridesEverything) {
  auto path = ini("threads = 8\ndb-pool-size = 4\n");
  set_env("CHATD_THREADS", "16");
  set_env("CHATD_DB_POOL_SIZE", "5");
  auto values = load_serve({"--config", path, "--threads", "32", "--db-pool-size=6"});
  EXPECT_EQ(value(values, "threads"), "32");
  EXPECT_EQ(value(values, "db-pool-size"), "6");
  auto s = serve(values);
  EXPECT_EQ(s.threads, 32u);
  EXPECT_EQ(s.db_pool_size, 6u);
}

TEST_F(ConfigTest, EachLayerOnlyOverridesWhatItSets) {
  auto path = ini("threads = 8\n");
  set_env("CHATD_DB_POOL_SIZE", "5");
  auto values = load_serve({"--config", path, "--max-requests", "100"});
  EXPECT_EQ(value(values, "threads"), "8");
  EXPECT_EQ(value(values, "db-pool-size"), "5");
  EXPECT_EQ(value(values, "max-requests"), "100");
  EXPECT_EQ(value(values, "socket-mode"), "0660");
}

TEST_F(ConfigTest, ConfigFileFromTheEnvironment) {
  auto path = ini("threads = 9\n");
  set_env("CHATD_CONFIG", path);
  EXPECT_EQ(value(load_serve({}), "threads"), "9");
}

TEST_F(ConfigTest, UnknownEnvironmentVariableIsRefusedByName) {
  set_env("CHATD_FOO", "1");
  try {
    load_serve({});
    FAIL() << "CHATD_FOO was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "CHATD_FOO: unknown environment variable (no such option)");
  }
}

TEST_F(ConfigTest, OtherEnvironmentVariablesAreIgnored) {
  set_env("CHATDX_THREADS", "1");  // not the CHATD_ prefix
  set_env("NOT_CHATD_THREADS", "1");
  EXPECT_EQ(value(load_serve({}), "threads"), "4");
}

TEST_F(ConfigTest, ServeVariablesAreAcceptedButIgnoredByOtherCommands) {
  set_env("CHATD_THREADS", "3");
  auto values = load({}, general_options());
  EXPECT_EQ(values.count("threads"), 0u);
  EXPECT_EQ(value(values, "log-level"), "info");
}

TEST_F(ConfigTest, ServeKeysInTheFileAreIgnoredByOtherCommands) {
  auto path = ini("threads = 8\nlog-level = warn\n");
  auto values = load({"--config", path}, general_options());
  // The file's value is dropped. (The map may still hold serve's defaults: boost's store()
  // adds the defaults of every option the file was parsed against.)
  if (values.count("threads")) {
    EXPECT_TRUE(values.at("threads").defaulted());
    EXPECT_EQ(value(values, "threads"), "4");
  }
  EXPECT_EQ(value(values, "log-level"), "warn");
}

TEST_F(ConfigTest, UnknownKeyInTheFileIsRefusedByName) {
  auto path = ini("threads = 8\nthredas = 9\n");
  try {
    load_serve({"--config", path});
    FAIL() << "thredas was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("thredas"), std::string::npos) << e.what();
  }
}

TEST_F(ConfigTest, MissingConfigFile) {
  try {
    load_serve({"--config", "/nonexistent/chatd.ini"});
    FAIL() << "a missing file was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "config: cannot read \"/nonexistent/chatd.ini\"");
  }
}

TEST_F(ConfigTest, UnknownCommandLineOption) {
  try {
    load_serve({"--thredas", "4"});
    FAIL() << "--thredas was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("thredas"), std::string::npos) << e.what();
  }
}

TEST_F(ConfigTest, BoundedNumbers) {
  EXPECT_EQ(serve_error({"--workers", "abc"}),
            "workers: must be a whole number from 0 to 256, got \"abc\"");
  EXPECT_EQ(serve_error({"--threads", "0"}),
            "threads: must be a whole number from 1 to 4096, got \"0\"");
  EXPECT_EQ(serve_error({"--threads=-1"}),
            "threads: must be a whole number from 1 to 4096, got \"-1\"");
  EXPECT_EQ(serve_error({"--threads", "4097"}),
            "threads: must be a whole number from 1 to 4096, got \"4097\"");
  EXPECT_EQ(serve_error({"--threads", " 4"}),
            "threads: must be a whole number from 1 to 4096, got \" 4\"");
  EXPECT_EQ(serve_error({"--threads", "99999999999999999999999"}).rfind("threads: ", 0), 0u);
  EXPECT_EQ(serve_error({"--workers", "257"}).rfind("workers: ", 0), 0u);
  EXPECT_EQ(serve_error({"--db-pool-size", "0"}).rfind("db-pool-size: ", 0), 0u);
  EXPECT_EQ(serve_error({"--db-pool-size", "1025"}).rfind("db-pool-size: ", 0), 0u);
  EXPECT_EQ(serve_error({"--max-requests", "x"}),
            "max-requests: must be a whole number (0 = never), got \"x\"");
  EXPECT_EQ(serve_error({"--threads", "4096", "--workers", "256", "--db-pool-size", "1024"}), "");
  EXPECT_EQ(serve_error({"--threads", "1", "--db-pool-size", "1"}), "");
}

TEST_F(ConfigTest, BadValueFromTheEnvironmentNamesTheKey) {
  set_env("CHATD_THREADS", "many");
  EXPECT_EQ(serve_error({}), "threads: must be a whole number from 1 to 4096, got \"many\"");
}

TEST_F(ConfigTest, EmptyValuesFromTheEnvironmentNameTheKey) {
  // "--key=" is refused by the command-line parser itself; the environment can pass "".
  const std::pair<const char*, const char*> cases[] = {
      {"CHATD_SOCKET_MODE", "socket-mode: "},
      {"CHATD_LISTEN", "listen: "},
      {"CHATD_SHUTDOWN_TIMEOUT", "shutdown-timeout: "},
      {"CHATD_THREADS", "threads: "},
      {"CHATD_WORKERS", "workers: "},
      {"CHATD_MAX_BODY_SIZE", "max-body-size: "}};
  for (const auto& [variable, prefix] : cases) {
    SCOPED_TRACE(variable);
    set_env(variable, "");
    auto message = serve_error({});
    EXPECT_EQ(message.rfind(prefix, 0), 0u) << message;
    EXPECT_NE(message.find("got \"\""), std::string::npos) << message;
    unsetenv(variable);
  }
}

TEST_F(ConfigTest, ZeroWorkersMeansOnePerCpu) {
  auto s = serve(load_serve({"--workers", "0"}));
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  ASSERT_GT(cpus, 0);
  EXPECT_EQ(s.workers, static_cast<unsigned>(cpus));
  EXPECT_EQ(serve(load_serve({"--workers", "3"})).workers, 3u);
}

TEST_F(ConfigTest, SocketMode) {
  EXPECT_EQ(serve(load_serve({"--socket-mode", "0600"})).socket_mode, 0600u);
  EXPECT_EQ(serve(load_serve({"--socket-mode", "755"})).socket_mode, 0755u);
  for (const char* bad : {"0888", "rw-rw----", "06600", "60", "0x1b6", "-660"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(serve_error({std::string("--socket-mode=") + bad}),
              std::string("socket-mode: must be an octal mode such as 0660, got \"") + bad + "\"");
  }
}

TEST_F(ConfigTest, Listen) {
  for (const char* good : {"unix:/run/chatd/chatd.sock", "unix:/tmp/x", "127.0.0.1:9000",
                           "0.0.0.0:1", "[::1]:9000", "[fe80::1]:65535"}) {
    SCOPED_TRACE(good);
    EXPECT_EQ(serve_error({std::string("--listen=") + good}), "");
    EXPECT_EQ(serve(load_serve({std::string("--listen=") + good})).listen, good);
  }
  for (const char* bad :
       {"unix:", "unix:relative.sock", "/run/chatd.sock", "9000", "localhost:9000", "127.0.0.1",
        "127.0.0.1:", "127.0.0.1:123456", "::1:9000", "[::1]", "tcp://127.0.0.1:9000"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(
        serve_error({std::string("--listen=") + bad}),
        std::string("listen: must be unix:/absolute/path or ADDRESS:PORT, got \"") + bad + "\"");
  }
}

// A port out of range is a ConfigError naming the key, so that a SIGHUP reload catches it.
TEST_F(ConfigTest, ListenPortOutOfRange) {
  EXPECT_EQ(serve_error({"--listen", "127.0.0.1:65536"}).rfind("listen: ", 0), 0u);
  EXPECT_EQ(serve_error({"--listen", "[::1]:99999"}).rfind("listen: ", 0), 0u);
}

TEST_F(ConfigTest, ShutdownTimeout) {
  EXPECT_EQ(serve(load_serve({"--shutdown-timeout", "90s"})).shutdown_timeout,
            std::chrono::seconds(90));
  EXPECT_EQ(serve(load_serve({"--shutdown-timeout", "2m"})).shutdown_timeout,
            std::chrono::minutes(2));
  EXPECT_EQ(serve(load_serve({"--shutdown-timeout", "5"})).shutdown_timeout,
            std::chrono::seconds(5));
  for (const char* bad : {"abc", "-5s", "5 s", "1.5s", "5x"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(serve_error({std::string("--shutdown-timeout=") + bad}),
              std::string("shutdown-timeout: must be a duration such as 30s, got \"") + bad + "\"");
  }
}

TEST_F(ConfigTest, ArchivedChatRetention) {
  EXPECT_EQ(serve(load_serve({})).archived_chat_retention, std::chrono::seconds(0));
  EXPECT_EQ(serve(load_serve({"--archived-chat-retention", "off"})).archived_chat_retention,
            std::chrono::seconds(0));
  EXPECT_EQ(serve(load_serve({"--archived-chat-retention", "720h"})).archived_chat_retention,
            std::chrono::hours(720));
  EXPECT_EQ(serve_error({"--archived-chat-retention=500ms"}),
            "archived-chat-retention: must be off or at least 1s");
  EXPECT_EQ(serve_error({"--archived-chat-retention=0"}),
            "archived-chat-retention: must be a duration such as 30s, got \"0\"");
}

TEST_F(ConfigTest, MaxBodySize) {
  EXPECT_EQ(serve(load_serve({"--max-body-size", "1MiB"})).max_body_size, 1u << 20);
  EXPECT_EQ(serve(load_serve({"--max-body-size", "1"})).max_body_size, 1u);
  EXPECT_EQ(serve(load_serve({"--max-body-size", "1GiB"})).max_body_size, 1u << 30);
  for (const char* bad : {"0", "2GiB", "1073741825", "big", "-1"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(
        serve_error({std::string("--max-body-size=") + bad}),
        std::string("max-body-size: must be a size from 1 byte to 1GiB, got \"") + bad + "\"");
  }
}

TEST_F(ConfigTest, RateLimit) {
  auto defaults = serve(load_serve({}));
  EXPECT_EQ(defaults.rate_limit, 10.0);
  EXPECT_EQ(defaults.rate_burst, 60u);
  auto s = serve(load_serve({"--rate-limit", "120/m", "--rate-burst", "5"}));
  EXPECT_EQ(s.rate_limit, 2.0);
  EXPECT_EQ(s.rate_burst, 5u);
  EXPECT_EQ(serve(load_serve({"--rate-limit", "0"})).rate_limit, 0.0);
  for (const char* bad : {"10", "fast", "1.5/s", "10/day", "1000001/s"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(serve_error({std::string("--rate-limit=") + bad}),
              std::string("rate-limit: must be 0 or a rate like 10/s, 600/m or 3600/h (at most "
                          "1000000/s), got \"") +
                  bad + "\"");
  }
  EXPECT_EQ(serve_error({"--rate-burst", "0"}).rfind("rate-burst: ", 0), 0u);
}

TEST_F(ConfigTest, MaxHistoryBytes) {
  EXPECT_EQ(serve(load_serve({})).max_history_bytes, 16u << 20);
  EXPECT_EQ(serve(load_serve({"--max-history-bytes", "2KiB"})).max_history_bytes, 2048u);
  for (const char* bad : {"1000", "2GiB", "lots"}) {
    try {
      serve(load_serve({"--max-history-bytes", bad}));
      ADD_FAILURE() << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()), std::string("max-history-bytes: must be a size from 1KiB "
                                                   "to 1GiB, got \"") +
                                           bad + "\"");
    }
  }
}

TEST_F(ConfigTest, StoredSizeLimits) {
  auto defaults = serve(load_serve({}));
  EXPECT_EQ(defaults.max_message_size, 4u << 20);
  EXPECT_EQ(defaults.max_chat_size, 64u << 20);
  auto set = serve(load_serve({"--max-message-size", "32KiB", "--max-chat-size", "1024GiB"}));
  EXPECT_EQ(set.max_message_size, 32u << 10);
  EXPECT_EQ(set.max_chat_size, uint64_t{1} << 40);
  EXPECT_EQ(serve_error({"--max-message-size", "1000"}),
            "max-message-size: must be a size from 1KiB to 1GiB, got \"1000\"");
  EXPECT_EQ(serve_error({"--max-chat-size", "1025GiB"}),
            "max-chat-size: must be a size from 1KiB to 1024GiB, got \"1025GiB\"");
}

TEST_F(ConfigTest, GeneralValidation) {
  auto general_error = [&](const std::vector<std::string>& args) -> std::string {
    try {
      general(load(args, general_options()));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(general_error({}), "");
  for (const char* level : {"debug", "info", "warn", "error"})
    EXPECT_EQ(general_error({"--log-level", level}), "") << level;
  EXPECT_EQ(general_error({"--log-level", "verbose"}),
            "log-level: must be debug, info, warn or error, got \"verbose\"");
  EXPECT_EQ(general_error({"--log-level", "INFO"}).rfind("log-level: ", 0), 0u);
  EXPECT_EQ(general_error({"--database-url", ""}), "database-url: must not be empty");
}

TEST_F(ConfigTest, DescribeListsValuesWithThePasswordMasked) {
  auto values = load_serve({"--database-url", "postgresql://u:secret@h/db", "--threads", "7"});
  auto text = describe(values, serve_command_options());
  EXPECT_NE(text.find("database-url = postgresql://u:****@h/db\n"), std::string::npos) << text;
  EXPECT_NE(text.find("threads = 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("listen = unix:/run/chatd/chatd.sock\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("secret"), std::string::npos) << text;
  EXPECT_EQ(text.find("\nhelp ="), std::string::npos) << text;
}

// A key typed without its '=' leaves the secret in the item: the error names the key only.
TEST(ListSpecs, AnItemWithoutEqualsIsNamedByItsKeyAlone) {
  const std::pair<std::string, std::string> cases[] = {
      {"type=openai;api-key sk-live-123456", "provider: item 2 (\"api-key…\") is not key=value"},
      {"type=openai;sk-live-123456", "provider: item 2 is not key=value"},
      {"api-key:sk-live-123456", "provider: item 1 (\"api-key…\") is not key=value"}};
  for (const auto& [spec, message] : cases) {
    try {
      parse_provider(spec);
      ADD_FAILURE() << spec << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  }
  try {
    parse_mcp_server("name=x;url=http://127.0.0.1/mcp;header Authorization: Bearer tok-987");
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "mcp-server: item 3 (\"header…\") is not key=value");
  }
}

TEST(MaskDatabaseUrl, UrlForm) {
  EXPECT_EQ(mask_database_url("postgresql://u:secret@h/db"), "postgresql://u:****@h/db");
  EXPECT_EQ(mask_database_url("postgres://user:p%40ss@db.example:5432/chatd?sslmode=require"),
            "postgres://user:****@db.example:5432/chatd?sslmode=require");
  EXPECT_EQ(mask_database_url("postgresql://u:@h/db"), "postgresql://u:****@h/db");
}

TEST(MaskDatabaseUrl, KeywordForm) {
  EXPECT_EQ(mask_database_url("host=h password=secret dbname=chatd"),
            "host=h password=**** dbname=chatd");
  EXPECT_EQ(mask_database_url("host=h password='a b' dbname=chatd"),
            "host=h password=**** dbname=chatd");
  EXPECT_EQ(mask_database_url("password = secret"), "password = ****");
  EXPECT_EQ(mask_database_url("password='it\\'s' user=u"), "password=**** user=u");
}

TEST(MaskDatabaseUrl, QueryForm) {
  EXPECT_EQ(mask_database_url("postgresql://h/db?password=x"), "postgresql://h/db?password=****");
  EXPECT_EQ(mask_database_url("postgresql:///db?sslmode=require&password=secret"),
            "postgresql:///db?sslmode=require&password=****");
}

// Only the password is masked: the parameters after it stay visible.
TEST(MaskDatabaseUrl, QueryParametersAfterThePasswordAreKept) {
  EXPECT_EQ(mask_database_url("postgresql://h/db?password=x&sslmode=require"),
            "postgresql://h/db?password=****&sslmode=require");
}

TEST(MaskDatabaseUrl, NoPasswordIsUnchanged) {
  for (const char* url :
       {"postgresql:///chatd", "postgresql://u@h/db", "postgresql://h:5432/db",
        "postgresql://u@h:5432/db?sslmode=require", "host=/run/postgresql dbname=chatd", ""}) {
    EXPECT_EQ(mask_database_url(url), url);
  }
}

TEST(MaskDatabaseUrl, SecretNeverSurvives) {
  for (const char* url :
       {"postgresql://u:secret@h/db", "postgres://u:secret@h", "host=h password=secret",
        "host=h password='secret x'", "postgresql:///db?password=secret",
        "postgresql:///db?a=1&password=secret"}) {
    EXPECT_EQ(mask_database_url(url).find("secret"), std::string::npos) << url;
  }
}

}  // namespace
}  // namespace chatd::config
