// chatd status: the scoreboard for a person. The workers serve it as GET /status (loopback
// only, through nginx), so this works for any user on the machine without access to chatd's
// memory or its database.
#include <curl/curl.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "worker/commands.hpp"
#include "worker/scoreboard.hpp"

namespace chatd::commands {

namespace {

size_t append(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

}  // namespace

void add_status_options(po::options_description& options) {
  options.add_options()(
      "url", po::value<std::string>()->default_value("http://127.0.0.1:8080"),
      "nginx's address for chatd (GET <url>/status, which nginx allows from loopback only)")(
      "json", po::bool_switch(), "print the status JSON as it came");
}

int status(const po::variables_map& values) {
  std::string base = values["url"].as<std::string>();
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string url = base + "/status";

  curl_global_init(CURL_GLOBAL_ALL);
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  std::string body;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 10'000L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) {
    std::cerr << "chatd: cannot fetch " << url << ": " << curl_easy_strerror(rc)
              << " (is chatd running behind nginx there? see --url)\n";
    return 1;
  }
  long code = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &code);
  auto status = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (code != 200 || !status.is_object()) {
    std::cerr << "chatd: " << url << " answered " << code;
    if (status.is_object() && status.contains("message")) std::cerr << ": " << status["message"];
    std::cerr << (code == 403 ? " (nginx allows /status from loopback only)" : "") << "\n";
    return 1;
  }
  if (values["json"].as<bool>())
    std::cout << status.dump(2) << "\n";
  else
    std::cout << scoreboard::format_status(status);
  return 0;
}

}  // namespace chatd::commands
