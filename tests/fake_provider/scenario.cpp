#include "scenario.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <variant>
#include <vector>

namespace fake {

using json = nlohmann::ordered_json;

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

namespace {

const char* const kModels[] = {"fake-model", "fake-model-2"};

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// j[camel] or j[snake] (Gemini's REST API takes both spellings); null when neither.
const json& field(const json& j, const char* camel, const char* snake = nullptr) {
  static const json null;
  if (!j.is_object()) return null;
  auto it = j.find(camel);
  if (it != j.end()) return *it;
  if (snake) {
    it = j.find(snake);
    if (it != j.end()) return *it;
  }
  return null;
}

std::string str(const json& j) { return j.is_string() ? j.get<std::string>() : std::string(); }

bool contains_ci(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
  return it != hay.end();
}

void append_text(std::string& out, const std::string& t) {
  if (t.empty()) return;
  if (!out.empty()) out += "\n";
  out += t;
}

// ---- Reading the conversation ------------------------------------------------------------

struct Conversation {
  std::string system;
  std::vector<std::string> files;  // every inline file, in order: "TYPE SIZE" (decoded bytes)
  std::string file_error;          // a file part the provider would refuse: its 400 message
  std::string user_text;           // the last user turn that has text
  int tool_turns = 0;              // tool-result turns after it
  bool thinking = false;
};

// The bytes a base64 payload decodes to; -1 when it is not base64.
long long base64_size(const std::string& data) {
  if (data.empty() || data.size() % 4 != 0) return -1;
  for (size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    bool pad = c == '=' && i + 2 >= data.size();
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && !pad) return -1;
  }
  size_t padding = data.ends_with("==") ? 2 : data.ends_with("=") ? 1 : 0;
  return static_cast<long long>(data.size() / 4 * 3 - padding);
}

// Notes one inline file of the request, checked as its provider checks it: a type it takes,
// base64 that decodes.
void add_file(Conversation& c, const std::string& media_type, const std::string& data,
              const std::vector<std::string>& accepted) {
  long long size = base64_size(data);
  if (std::find(accepted.begin(), accepted.end(), media_type) == accepted.end()) {
    c.file_error = "Unsupported file type: " + media_type;
  } else if (size < 0) {
    c.file_error = "The file data is not valid base64";
  } else {
    c.files.push_back(media_type + " " + std::to_string(size));
  }
}

const std::vector<std::string> kImageTypes = {"image/png", "image/jpeg", "image/gif", "image/webp"};
const std::vector<std::string> kPdf = {"application/pdf"};

// "data:TYPE;base64,DATA" split; false when it is not such a URL.
bool split_data_url(const std::string& url, std::string& media_type, std::string& data) {
  if (url.rfind("data:", 0) != 0) return false;
  size_t semi = url.find(";base64,");
  if (semi == std::string::npos) return false;
  media_type = url.substr(5, semi - 5);
  data = url.substr(semi + 8);
  return true;
}

// OpenAI content: a string, or an array of parts {"type":"text","text":…}.
std::string openai_text(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (content.is_array()) {
    for (const json& p : content) {
      if (str(field(p, "type")) == "text") append_text(out, str(field(p, "text")));
    }
  }
  return out;
}

Conversation read_openai(const json& body) {
  Conversation c;
  const json& msgs = field(body, "messages");
  // Images as image_url parts, PDFs as file parts with file_data, both data: URLs.
  for (const json& m : msgs.is_array() ? msgs : json::array()) {
    const json& content = field(m, "content");
    for (const json& p : content.is_array() ? content : json::array()) {
      std::string type = str(field(p, "type")), media_type, data;
      if (type == "image_url") {
        if (!split_data_url(str(field(field(p, "image_url"), "url")), media_type, data))
          continue;  // a remote image: nothing to check here
        add_file(c, media_type, data, kImageTypes);
      } else if (type == "file") {
        const json& file = field(p, "file");
        if (str(field(file, "filename")).empty() ||
            !split_data_url(str(field(file, "file_data")), media_type, data)) {
          c.file_error = "Invalid file part: filename and file_data are required";
          continue;
        }
        add_file(c, media_type, data, kPdf);
      }
    }
  }
  int user = -1;
  for (int i = static_cast<int>(msgs.size()) - 1; i >= 0 && user < 0; --i) {
    const json& m = msgs[i];
    if (str(field(m, "role")) != "user") continue;
    std::string t = openai_text(field(m, "content"));
    if (!t.empty()) {
      user = i;
      c.user_text = t;
    }
  }
  for (int i = 0; i < static_cast<int>(msgs.size()); ++i) {
    std::string role = str(field(msgs[i], "role"));
    if (role == "system" || role == "developer") {
      append_text(c.system, openai_text(field(msgs[i], "content")));
    }
    if (i > user && role == "tool") ++c.tool_turns;
  }
  return c;
}

Conversation read_anthropic(const json& body) {
  Conversation c;
  const json& system = field(body, "system");
  if (system.is_string()) {
    c.system = system.get<std::string>();
  } else if (system.is_array()) {
    for (const json& b : system) append_text(c.system, str(field(b, "text")));
  }
  const json& msgs = field(body, "messages");
  // Images as image blocks, PDFs as document blocks, with base64 sources.
  for (const json& m : msgs.is_array() ? msgs : json::array()) {
    const json& content = field(m, "content");
    for (const json& b : content.is_array() ? content : json::array()) {
      std::string type = str(field(b, "type"));
      if (type != "image" && type != "document") continue;
      const json& source = field(b, "source");
      if (str(field(source, "type")) != "base64") continue;
      add_file(c, str(field(source, "media_type")), str(field(source, "data")),
               type == "image" ? kImageTypes : kPdf);
    }
  }
  auto classify = [](const json& m, std::string& text) {  // 1 user text, 2 tool result, 0 other
    if (str(field(m, "role")) != "user") return 0;
    const json& content = field(m, "content");
    if (content.is_string()) {
      text = content.get<std::string>();
      return text.empty() ? 0 : 1;
    }
    bool tool = false;
    for (const json& b : content.is_array() ? content : json::array()) {
      std::string type = str(field(b, "type"));
      if (type == "tool_result") tool = true;
      if (type == "text") append_text(text, str(field(b, "text")));
    }
    if (tool) return 2;
    return text.empty() ? 0 : 1;
  };
  int user = -1;
  for (int i = static_cast<int>(msgs.size()) - 1; i >= 0 && user < 0; --i) {
    std::string t;
    if (classify(msgs[i], t) == 1) {
      user = i;
      c.user_text = t;
    }
  }
  for (int i = user + 1; i < static_cast<int>(msgs.size()); ++i) {
    std::string t;
    if (classify(msgs[i], t) == 2) ++c.tool_turns;
  }
  const json& thinking = field(body, "thinking");
  c.thinking = thinking.is_object() && str(field(thinking, "type")) != "disabled";
  return c;
}

Conversation read_google(const json& body) {
  Conversation c;
  const json& sys = field(body, "systemInstruction", "system_instruction");
  for (const json& p : field(sys, "parts").is_array() ? field(sys, "parts") : json::array()) {
    append_text(c.system, str(field(p, "text")));
  }
  const json& contents = field(body, "contents");
  // Images and PDFs alike as inlineData parts.
  for (const json& content : contents.is_array() ? contents : json::array()) {
    const json& parts = field(content, "parts");
    for (const json& p : parts.is_array() ? parts : json::array()) {
      const json& inline_data = field(p, "inlineData", "inline_data");
      if (inline_data.is_null()) continue;
      // Gemini's image types have no GIF.
      const std::vector<std::string> accepted = {"image/png",  "image/jpeg", "image/webp",
                                                 "image/heic", "image/heif", "application/pdf"};
      add_file(c, str(field(inline_data, "mimeType", "mime_type")), str(field(inline_data, "data")),
               accepted);
    }
  }
  auto classify = [](const json& content, std::string& text) {
    bool tool = false;
    const json& parts = field(content, "parts");
    for (const json& p : parts.is_array() ? parts : json::array()) {
      if (!field(p, "functionResponse", "function_response").is_null()) tool = true;
      if (field(p, "thought").is_boolean() && field(p, "thought").get<bool>()) continue;
      append_text(text, str(field(p, "text")));
    }
    if (tool) return 2;
    std::string role = str(field(content, "role"));
    return (role.empty() || role == "user") && !text.empty() ? 1 : 0;
  };
  int user = -1;
  for (int i = static_cast<int>(contents.size()) - 1; i >= 0 && user < 0; --i) {
    std::string t;
    if (classify(contents[i], t) == 1) {
      user = i;
      c.user_text = t;
    }
  }
  for (int i = user + 1; i < static_cast<int>(contents.size()); ++i) {
    std::string t;
    if (classify(contents[i], t) == 2) ++c.tool_turns;
  }
  const json& tc = field(field(body, "generationConfig", "generation_config"), "thinkingConfig",
                         "thinking_config");
  const json& inc = field(tc, "includeThoughts", "include_thoughts");
  c.thinking = inc.is_boolean() && inc.get<bool>();
  return c;
}

// ---- Tokens --------------------------------------------------------------------------------

// "You said: hi" -> "You", " said:", " hi" (leading whitespace stays with the next word).
std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// `s` in `n` pieces of about equal length, cut only between UTF-8 code points.
std::vector<std::string> split_n(const std::string& s, int n) {
  std::vector<size_t> starts;  // code point starts
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  std::vector<std::string> out;
  size_t cps = starts.size();
  if (cps == 0 || n <= 0) return out;
  size_t pieces = std::min<size_t>(n, cps);
  for (size_t k = 0; k < pieces; ++k) {
    size_t a = starts[k * cps / pieces];
    size_t b = k + 1 == pieces ? s.size() : starts[(k + 1) * cps / pieces];
    out.push_back(s.substr(a, b - a));
  }
  return out;
}

// ---- Scripts -------------------------------------------------------------------------------

// The JSON after a line starting "SCRIPT " in `text`: the rest of that line, or failing that
// the rest of the text (pretty-printed scripts). Returns false when there is none.
bool find_script(const std::string& text, std::string& raw, json& script, std::string& err) {
  size_t pos = 0;
  while (true) {
    if (text.compare(pos, 7, "SCRIPT ") == 0) break;
    pos = text.find('\n', pos);
    if (pos == std::string::npos) return false;
    ++pos;
  }
  size_t start = pos + 7;
  size_t eol = text.find('\n', start);
  raw = text.substr(start, eol == std::string::npos ? std::string::npos : eol - start);
  script = json::parse(raw, nullptr, false);
  if (script.is_discarded() && eol != std::string::npos) {
    raw = text.substr(start);
    script = json::parse(raw, nullptr, false);
  }
  if (script.is_discarded() || !script.is_object()) {
    err = "fake_provider: the SCRIPT line does not hold a JSON object";
    return true;
  }
  return true;
}

int int_or(const json& j, const char* key, int def) {
  const json& v = field(j, key);
  return v.is_number() ? v.get<int>() : def;
}

// What the script says the provider reports for a call (each provider in its own fields:
// wire.cpp): {"prompt", "completion" (-1: the tokens sent), "cache_read", "cache_write",
// "reasoning"}.
void set_usage(Plan& plan, const json& usage) {
  plan.prompt_tokens = int_or(usage, "prompt", 10);
  plan.completion_tokens = int_or(usage, "completion", -1);
  plan.cache_read_tokens = int_or(usage, "cache_read", 0);
  plan.cache_write_tokens = int_or(usage, "cache_write", 0);
  plan.reasoning_tokens = int_or(usage, "reasoning", 0);
}

struct Ends {
  Ending ending = Ending::kFinish;
  int after = -1;
};

// midstream_error_after / cut_after / stall_after of `step`, else of `script`.
Ends ends_of(const json& script, const json& step) {
  static const std::pair<const char*, Ending> kinds[] = {
      {"midstream_error_after", Ending::kMidstreamError},
      {"cut_after", Ending::kCut},
      {"stall_after", Ending::kStall}};
  for (const json* j : {&step, &script}) {
    for (const auto& [key, ending] : kinds) {
      const json& v = field(*j, key);
      if (v.is_number()) return {ending, std::max(0, v.get<int>())};
    }
  }
  return {};
}

// Keeps the ops up to the `after`-th token and sets how the body ends.
void truncate(Plan& plan, Ends ends) {
  if (ends.ending == Ending::kFinish) return;
  plan.ending = ends.ending;
  int seen = 0;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    if (!is_delta(plan.ops[i], plan.provider)) continue;
    if (seen == ends.after) {
      plan.ops.resize(i);
      return;
    }
    ++seen;
  }
}

Op make_op(OpKind kind, int delay = 0, int tool = 0, std::string text = {}) {
  return Op{kind, delay, tool, std::move(text)};
}

void add_tokens(Plan& plan, OpKind kind, const std::vector<std::string>& tokens, int delay) {
  for (const std::string& t : tokens) plan.ops.push_back(make_op(kind, delay, 0, t));
}

std::string retry_after_of(const json& fail) {
  const json& r = field(fail, "retry_after");
  if (r.is_string()) return r.get<std::string>();
  if (r.is_number_integer()) return std::to_string(r.get<long long>());
  if (r.is_number()) return dump(r);
  return {};
}

}  // namespace

// ---- Errors --------------------------------------------------------------------------------

Reply Fake::error(Provider provider, int status, std::string message, bool quota,
                  const std::string& retry_after) {
  Reply r;
  r.status = status;
  r.provider = provider_name(provider);
  r.scenario = "error";
  std::string request_id = "req_fake" + std::to_string(++seq_);
  json body;
  switch (provider) {
    case Provider::kOpenAI: {
      std::string type = "invalid_request_error";
      json code = nullptr;
      switch (status) {
        case 401:
          if (message.empty()) {
            message =
                "Incorrect API key provided: bad-key. You can find your API key at "
                "https://platform.openai.com/account/api-keys.";
          }
          code = "invalid_api_key";
          break;
        case 403:
          if (message.empty()) message = "Country, region, or territory not supported";
          type = "request_forbidden";
          code = "unsupported_country_region_territory";
          break;
        case 404:
          code = "model_not_found";
          break;
        case 429:
          if (quota) {
            message =
                "You exceeded your current quota, please check your plan and billing details. "
                "For more information on this error, read the docs: "
                "https://platform.openai.com/docs/guides/error-codes/api-errors.";
            type = code = "insufficient_quota";
          } else {
            message =
                "Rate limit reached for fake-model in organization org-fake on requests per min "
                "(RPM): Limit 3, Used 3, Requested 1. Please try again in 1s. Visit "
                "https://platform.openai.com/account/rate-limits to learn more.";
            type = "requests";
            code = "rate_limit_exceeded";
            r.headers.emplace_back("x-ratelimit-limit-requests", "3");
            r.headers.emplace_back("x-ratelimit-remaining-requests", "0");
            r.headers.emplace_back("x-ratelimit-reset-requests", "1s");
          }
          break;
        default:
          if (status >= 500) {
            type = "server_error";
            if (message.empty()) {
              message = status == 503 ? "The server is overloaded or not ready yet."
                                      : "The server had an error while processing your "
                                        "request. Sorry about that!";
            }
          }
      }
      body = {
          {"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}};
      r.headers.emplace_back("x-request-id", request_id);
      break;
    }
    case Provider::kAnthropic: {
      std::string type = "api_error";
      switch (status) {
        case 400:
          type = "invalid_request_error";
          break;
        case 401:
          type = "authentication_error";
          if (message.empty()) message = "invalid x-api-key";
          break;
        case 403:
          type = "permission_error";
          if (message.empty()) {
            message = "Your API key does not have permission to use the specified resource.";
          }
          break;
        case 404:
          type = "not_found_error";
          break;
        case 429:
          type = "rate_limit_error";
          message =
              "This request would exceed the rate limit for your organization (org-fake) of 50 "
              "input tokens per minute. For details, refer to: "
              "https://docs.claude.com/en/api/rate-limits.";
          break;
        case 529:
          type = "overloaded_error";
          message = "Overloaded";
          break;
        default:
          if (message.empty()) message = "Internal server error";
      }
      body = {{"type", "error"},
              {"error", {{"type", type}, {"message", message}}},
              {"request_id", "req_fake"}};
      r.headers.emplace_back("request-id", "req_fake");
      break;
    }
    case Provider::kGoogle: {
      std::string st;
      json details = json::array();
      switch (status) {
        case 400:
          st = "INVALID_ARGUMENT";
          if (message == "API_KEY_INVALID") {
            message = "API key not valid. Please pass a valid API key.";
            details =
                json::array({{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                              {"reason", "API_KEY_INVALID"},
                              {"domain", "googleapis.com"},
                              {"metadata", {{"service", "generativelanguage.googleapis.com"}}}},
                             {{"@type", "type.googleapis.com/google.rpc.LocalizedMessage"},
                              {"locale", "en-US"},
                              {"message", message}}});
          }
          break;
        case 401:
          st = "UNAUTHENTICATED";
          if (message.empty()) {
            message =
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.";
          }
          break;
        case 403:
          st = "PERMISSION_DENIED";
          if (message.empty()) message = "The caller does not have permission";
          break;
        case 404:
          st = "NOT_FOUND";
          break;
        case 429: {
          st = "RESOURCE_EXHAUSTED";
          message =
              "You exceeded your current quota, please check your plan and billing details. For "
              "more information on this error, head to: https://ai.google.dev/gemini-api/docs/"
              "rate-limits.";
          std::string delay = retry_after.empty() ? "1s" : retry_after + "s";
          details = json::array(
              {{{"@type", "type.googleapis.com/google.rpc.QuotaFailure"},
                {"violations",
                 json::array(
                     {{{"quotaId", "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}}})}},
               {{"@type", "type.googleapis.com/google.rpc.RetryInfo"}, {"retryDelay", delay}}});
          break;
        }
        case 500:
          st = "INTERNAL";
          if (message.empty()) {
            message =
                "An internal error has occurred. Please retry or report in "
                "https://developers.generativeai.google/guide/troubleshooting";
          }
          break;
        default:
          st = "UNAVAILABLE";
          if (message.empty()) message = "The model is overloaded. Please try again later.";
      }
      body = {{"error", {{"code", status}, {"message", message}, {"status", st}}}};
      if (!details.empty()) body["error"]["details"] = details;
      r.content_type = "application/json; charset=UTF-8";
      break;
    }
  }
  if (!retry_after.empty()) r.headers.emplace_back("retry-after", retry_after);
  // OpenAI and Google pretty-print their error bodies; Anthropic's are compact.
  r.body = body.dump(provider == Provider::kAnthropic ? -1 : 2, ' ', false,
                     json::error_handler_t::replace);
  if (provider != Provider::kAnthropic) r.body += "\n";
  return r;
}

// ---- Routing -------------------------------------------------------------------------------

Reply Fake::handle(const HttpRequest& req) {
  const std::string& path = req.path;
  bool google = path.rfind("/v1beta/", 0) == 0 || path == "/v1beta";
  bool anthropic = !google && (req.header("x-api-key") || path == "/v1/messages");
  Provider provider = google      ? Provider::kGoogle
                      : anthropic ? Provider::kAnthropic
                                  : Provider::kOpenAI;

  // Keys.
  std::string key;
  switch (provider) {
    case Provider::kOpenAI: {
      const std::string* auth = req.header("authorization");
      if (!auth || auth->rfind("Bearer ", 0) != 0) {
        Reply r = error(provider, 401,
                        "You didn't provide an API key. You need to provide your API key in an "
                        "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                        "YOUR_KEY), or as the password field (with blank username) if you're "
                        "accessing the API from your browser and are prompted for a username. "
                        "You can obtain an API key from "
                        "https://platform.openai.com/account/api-keys.");
        r.scenario = "no_key";
        return r;
      }
      key = auth->substr(7);
      break;
    }
    case Provider::kAnthropic: {
      const std::string* k = req.header("x-api-key");
      if (!k) {
        Reply r = error(provider, 401, "x-api-key header is required");
        r.scenario = "no_key";
        return r;
      }
      key = *k;
      if (!req.header("anthropic-version")) {
        Reply r = error(provider, 400, "anthropic-version: header is required");
        r.scenario = "no_version";
        return r;
      }
      break;
    }
    case Provider::kGoogle: {
      const std::string* k = req.header("x-goog-api-key");
      if (k) {
        key = *k;
      } else {
        size_t p = ("&" + req.query).find("&key=");
        if (p != std::string::npos) {
          key = req.query.substr(p + 4);
          key = key.substr(0, key.find('&'));
        } else {
          Reply r = error(provider, 403,
                          "Method doesn't allow unregistered callers (callers without "
                          "established identity). Please use API Key or other form of API "
                          "consumer identity to call this API.");
          r.scenario = "no_key";
          return r;
        }
      }
      break;
    }
  }
  if (key == "bad-key") {
    Reply r = provider == Provider::kGoogle ? error(provider, 400, "API_KEY_INVALID")
                                            : error(provider, 401);
    r.scenario = "bad_key";
    return r;
  }

  // Model lists.
  if (req.method == "GET" && (path == "/v1/models" || path == "/v1beta/models")) {
    json list = json::array();
    for (const char* m : kModels) {
      switch (provider) {
        case Provider::kOpenAI:
          list.push_back(
              {{"id", m}, {"object", "model"}, {"created", 1700000000}, {"owned_by", "fake"}});
          break;
        case Provider::kAnthropic:
          list.push_back({{"id", m},
                          {"type", "model"},
                          {"display_name", m},
                          {"created_at", "2025-01-01T00:00:00Z"}});
          break;
        case Provider::kGoogle:
          list.push_back({{"name", std::string("models/") + m},
                          {"displayName", m},
                          {"supportedGenerationMethods",
                           json::array({"generateContent", "streamGenerateContent"})}});
          break;
      }
    }
    json body;
    if (provider == Provider::kOpenAI) body = {{"object", "list"}, {"data", list}};
    if (provider == Provider::kAnthropic) {
      body = {
          {"data", list}, {"has_more", false}, {"first_id", kModels[0]}, {"last_id", kModels[1]}};
    }
    if (provider == Provider::kGoogle) body = {{"models", list}};
    Reply r;
    r.body = dump(body);
    r.provider = provider_name(provider);
    r.scenario = "models";
    return r;
  }

  if (req.method == "POST" && provider == Provider::kOpenAI && path == "/v1/chat/completions") {
    return chat(provider, req, {}, true, true);
  }
  if (req.method == "POST" && provider == Provider::kAnthropic && path == "/v1/messages") {
    return chat(provider, req, {}, true, true);
  }
  if (req.method == "POST" && provider == Provider::kGoogle &&
      path.rfind("/v1beta/models/", 0) == 0) {
    std::string rest = path.substr(15);
    size_t colon = rest.rfind(':');
    if (colon != std::string::npos) {
      std::string method = rest.substr(colon + 1);
      std::string model = rest.substr(0, colon);
      bool sse = ("&" + req.query).find("&alt=sse") != std::string::npos;
      if (method == "streamGenerateContent") return chat(provider, req, model, true, sse);
      if (method == "generateContent") return chat(provider, req, model, false, false);
    }
  }
  std::string msg = provider == Provider::kOpenAI ? "Invalid URL (" + req.method + " " + path + ")"
                                                  : "Not found: " + req.method + " " + path;
  Reply r = error(provider, 404, msg);
  r.scenario = "not_found";
  return r;
}

// ---- Chat ----------------------------------------------------------------------------------

namespace {

// Anthropic's prompt-caching breakpoints (cache_control) on the system blocks, the tools and the
// message blocks, checked as Anthropic does: at most 4, of type "ephemeral", none on a thinking
// block or an empty text. Returns how many, or the 400's message.
std::variant<int, std::string> cache_breakpoints(const json& body) {
  std::vector<const json*> blocks;
  for (const char* list : {"system", "tools"})
    if (field(body, list).is_array())
      for (const auto& block : field(body, list)) blocks.push_back(&block);
  if (field(body, "messages").is_array())
    for (const auto& message : field(body, "messages"))
      if (field(message, "content").is_array())
        for (const auto& block : field(message, "content")) blocks.push_back(&block);
  int marks = 0;
  for (const json* block : blocks) {
    const json& mark = field(*block, "cache_control");
    if (mark.is_null()) continue;
    if (str(field(mark, "type")) != "ephemeral")
      return std::string("cache_control.type: Input should be 'ephemeral'");
    std::string type = str(field(*block, "type"));
    if (type == "thinking" || type == "redacted_thinking")
      return std::string("cache_control cannot be set for thinking blocks");
    if (type == "text" && str(field(*block, "text")).empty())
      return std::string("cache_control cannot be set for empty text blocks");
    ++marks;
  }
  if (marks > 4)
    return "A maximum of 4 blocks with cache_control may be provided. Found " +
           std::to_string(marks) + ".";
  return marks;
}

}  // namespace

Reply Fake::chat(Provider provider, const HttpRequest& req, std::string model, bool stream,
                 bool gemini_sse) {
  auto bad = [&](std::string message) {  // a 400, logged with the model
    Reply r = error(provider, 400, std::move(message));
    r.model = model;
    return r;
  };
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return bad(provider == Provider::kGoogle
                   ? "Invalid JSON payload received."
                   : "We could not parse the JSON body of your request. (HINT: This likely "
                     "means you aren't using your HTTP library correctly.)");
  }

  Conversation conv;
  bool cache_marked = false;  // Anthropic: the request has prompt-caching breakpoints
  Plan plan;
  plan.provider = provider;
  plan.gemini_sse = gemini_sse;
  switch (provider) {
    case Provider::kOpenAI: {
      model = str(field(body, "model"));
      if (model.empty()) return bad("you must provide a model parameter");
      const json& msgs = field(body, "messages");
      if (!msgs.is_array() || msgs.empty()) {
        return bad("[] is too short - 'messages'");
      }
      stream = field(body, "stream").is_boolean() && field(body, "stream").get<bool>();
      const json& inc = field(field(body, "stream_options"), "include_usage");
      plan.include_usage = inc.is_boolean() && inc.get<bool>();
      conv = read_openai(body);
      break;
    }
    case Provider::kAnthropic: {
      model = str(field(body, "model"));
      if (model.empty()) return bad("model: Field required");
      if (!field(body, "messages").is_array()) return bad("messages: Field required");
      const json& max = field(body, "max_tokens");
      if (!max.is_number_integer()) return bad("max_tokens: Field required");
      stream = field(body, "stream").is_boolean() && field(body, "stream").get<bool>();
      conv = read_anthropic(body);
      auto marks = cache_breakpoints(body);
      if (auto* error = std::get_if<std::string>(&marks)) return bad(*error);
      cache_marked = std::get<int>(marks) > 0;
      if (conv.thinking && str(field(field(body, "thinking"), "type")) == "enabled") {
        const json& budget = field(field(body, "thinking"), "budget_tokens");
        if (!budget.is_number_integer() || budget.get<long long>() < 1024) {
          return bad(
              "thinking.enabled.budget_tokens: Input should be greater than or equal to "
              "1024");
        }
        if (budget.get<long long>() >= max.get<long long>()) {
          return bad(
              "`max_tokens` must be greater than `thinking.budget_tokens`. Please "
              "consult our documentation at https://docs.claude.com/en/docs/"
              "build-with-claude/extended-thinking#max-tokens-and-context-window-size");
        }
      }
      break;
    }
    case Provider::kGoogle: {
      const json& contents = field(body, "contents");
      if (!contents.is_array() || contents.empty()) {
        return bad("* GenerateContentRequest.contents: contents is not specified\n");
      }
      conv = read_google(body);
      break;
    }
  }
  plan.model = model;
  plan.seq = ++seq_;

  std::string raw;
  json script = json::object();
  std::string script_error;
  bool scripted = find_script(conv.user_text, raw, script, script_error);
  if (!script_error.empty()) return bad(script_error);
  if (!conv.file_error.empty()) return bad(conv.file_error);

  Reply reply;
  reply.provider = provider_name(provider);
  reply.model = model;

  if (contains_ci(conv.system, "short title")) {
    // A title request: the script's title, after title_delay_ms. Never fails.
    // Unscripted: the first words of the user's text, as a model would summarise it.
    std::string title = str(field(script, "title"));
    if (title.empty() && !scripted) {
      auto words = split_words(conv.user_text);
      for (size_t i = 0; i < words.size() && i < 5; ++i) title += words[i];
    }
    if (title.empty()) title = "Fake chat title";
    plan.initial_delay_ms = std::max(0, int_or(script, "title_delay_ms", 0));
    plan.ops.push_back(make_op(OpKind::kTextStart));
    add_tokens(plan, OpKind::kText, split_words(title), 0);
    plan.ops.push_back(make_op(OpKind::kTextEnd));
    set_usage(plan, field(script, "title_usage"));
    reply.scenario = "title";
  } else if (!scripted) {
    plan.ops.push_back(make_op(OpKind::kTextStart));
    add_tokens(plan, OpKind::kText, split_words("You said: " + conv.user_text), 10);
    plan.ops.push_back(make_op(OpKind::kTextEnd));
    reply.scenario = "default";
  } else {
    reply.scenario = "script";
    const json& steps = field(script, "steps");
    int nsteps = steps.is_array() ? static_cast<int>(steps.size()) : 0;
    int index = conv.tool_turns;
    reply.step = index;
    bool beyond = index >= nsteps;
    static const json empty = json::object();
    const json& step = nsteps == 0 ? empty : steps[std::min(index, nsteps - 1)];

    // fail: the first `times` requests for this script and step get an error.
    const json& fail =
        field(step, "fail").is_object() ? field(step, "fail") : field(script, "fail");
    if (fail.is_object()) {
      int times = int_or(fail, "times", 1);
      int& served =
          failures_[std::string(provider_name(provider)) + "#" + std::to_string(index) + "#" + raw];
      if (served < times) {
        ++served;
        const json& q = field(fail, "quota");
        Reply r = error(provider, int_or(fail, "status", 500), {}, q.is_boolean() && q.get<bool>(),
                        retry_after_of(fail));
        r.model = model;
        r.scenario = "fail";
        r.step = index;
        return r;
      }
    }

    int delay = std::max(0, int_or(step, "token_delay_ms", int_or(script, "token_delay_ms", 10)));
    std::string text = nsteps == 0 ? "You said: " + conv.user_text : str(field(step, "text"));
    // "describe_files": what inline files the request carried, as "files: TYPE SIZE, …".
    if (field(script, "describe_files").is_boolean() &&
        field(script, "describe_files").get<bool>()) {
      text = "files:";
      for (size_t i = 0; i < conv.files.size(); ++i) text += (i ? ", " : " ") + conv.files[i];
    }
    // "repeat": the text that many times over (a large reply from a small request).
    for (int copies = std::clamp(int_or(step, "repeat", 1), 1, 100'000), base_size = text.size();
         copies > 1; --copies)
      text.append(text, 0, base_size);
    std::string reasoning = str(field(step, "reasoning"));
    if (!reasoning.empty() && conv.thinking && provider != Provider::kOpenAI) {
      plan.ops.push_back(make_op(OpKind::kReasonStart));
      add_tokens(plan, OpKind::kReason, split_words(reasoning), delay);
      plan.ops.push_back(make_op(OpKind::kReasonEnd));
    }
    if (!text.empty()) {
      int n = int_or(step, "tokens", 0);
      plan.ops.push_back(make_op(OpKind::kTextStart));
      add_tokens(plan, OpKind::kText, n > 0 ? split_n(text, n) : split_words(text), delay);
      plan.ops.push_back(make_op(OpKind::kTextEnd));
    }
    const json& calls = field(step, "tool_calls");
    if (!beyond && calls.is_array()) {
      for (const json& call : calls) {
        int i = static_cast<int>(plan.tools.size());
        ToolCall t;
        t.name = str(field(call, "name"));
        const json& args = field(call, "args");
        t.args_json = args.is_object() ? dump(args) : "{}";
        std::string suffix = std::to_string(plan.seq) + "_" + std::to_string(i);
        switch (provider) {
          case Provider::kOpenAI:
            t.id = "call_fake" + suffix;
            break;
          case Provider::kAnthropic:
            t.id = "toolu_fake" + suffix;
            break;
          case Provider::kGoogle:
            t.id = "fc_fake" + suffix;
            // Like Gemini: only the first call part of a turn carries the signature.
            if (i == 0) t.signature = "fake-signature-" + std::to_string(++signatures_);
            break;
        }
        plan.tools.push_back(t);
        if (provider == Provider::kGoogle) continue;
        plan.ops.push_back(make_op(OpKind::kToolStart, delay, i));
        int pieces = std::clamp(static_cast<int>(t.args_json.size()) / 6, 3, 16);
        for (std::string& frag : split_n(t.args_json, pieces)) {
          plan.ops.push_back(make_op(OpKind::kToolArgs, delay, i, std::move(frag)));
        }
        plan.ops.push_back(make_op(OpKind::kToolEnd, 0, i));
      }
      if (provider == Provider::kGoogle && !plan.tools.empty()) {
        plan.ops.push_back(make_op(OpKind::kToolStart, delay, -1));
      }
    }
    set_usage(plan, field(script, "usage"));
    truncate(plan, ends_of(script, step));
  }

  // Anthropic caches only up to a request's breakpoints: without any, nothing is read from a
  // cache or written to one, and the whole prompt is input.
  if (provider == Provider::kAnthropic && !cache_marked) {
    plan.prompt_tokens += plan.cache_read_tokens + plan.cache_write_tokens;
    plan.cache_read_tokens = plan.cache_write_tokens = 0;
  }

  if (stream) {
    reply.content_type =
        provider == Provider::kGoogle ? "text/event-stream" : "text/event-stream; charset=utf-8";
    if (provider == Provider::kGoogle && !gemini_sse) {
      reply.content_type = "application/json; charset=UTF-8";
    }
    if (provider == Provider::kOpenAI) {
      reply.headers.emplace_back("x-request-id", "req_fake" + std::to_string(plan.seq));
    }
    if (provider == Provider::kAnthropic) reply.headers.emplace_back("request-id", "req_fake");
    reply.headers.emplace_back("cache-control", "no-cache");
    reply.delay_ms = plan.initial_delay_ms;
    reply.stream = std::make_unique<StreamRenderer>(std::move(plan));
    return reply;
  }

  // Not streamed: the whole reply after the whole stream's time.
  reply.delay_ms = plan.initial_delay_ms;
  for (const Op& op : plan.ops) reply.delay_ms += op.delay_ms;
  switch (plan.ending) {
    case Ending::kStall:
      reply.never = true;
      return reply;
    case Ending::kCut:
      reply.cut = true;
      return reply;
    case Ending::kMidstreamError: {
      Reply r = error(provider, provider == Provider::kAnthropic ? 529 : 500);
      r.delay_ms = reply.delay_ms;
      r.model = reply.model;
      r.scenario = reply.scenario;
      r.step = reply.step;
      return r;
    }
    case Ending::kFinish:
      break;
  }
  reply.body = render_full(plan);
  return reply;
}

}  // namespace fake
