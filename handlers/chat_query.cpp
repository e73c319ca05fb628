#include "handlers/chat_query.hpp"

#include <algorithm>
#include <charconv>

#include "base/text.hpp"
#include "base/uuid.hpp"
#include "handlers/error.hpp"

namespace chatd::http {

using nlohmann::json;

namespace {

constexpr int kMaxLimit = 200;  // as the detail of limit_param says
constexpr int kDefaultMessagePage = 50;
constexpr size_t kMaxTerms = 32;  // as its detail says

[[noreturn]] void invalid(const std::string& field, const std::string& detail) {
  throw ApiError(400, "Invalid query parameters.", detail, {{field, detail}});
}

// `"<term>": <what>`. (Appended, not added: GCC 12 at -O3 warns falsely on operator+ here.)
[[noreturn]] void invalid_term(const std::string& field, std::string_view term,
                               std::string_view what) {
  std::string detail;
  detail.append("\"").append(term).append("\": ").append(what);
  invalid(field, detail);
}

// "key:value" of label:key:value and label=key:value, as {"key":"value"}.
json label_filter(std::string_view term, std::string_view text, const std::string& field) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || !valid_label_key(text.substr(0, colon)))
    invalid_term(field, term, "a label filter is key:value, the key 1 to 64 of A-Z a-z 0-9 _ . -");
  return json{{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))}};
}

// One term of `q`: `key:value`, `key:"value with spaces"`, `"a phrase"` or a word.
struct Term {
  std::string text;  // as written, for errors
  std::string key;   // empty: a full-text word or phrase
  std::string value;
};

std::vector<Term> terms(std::string_view q) {
  std::vector<Term> out;
  size_t i = 0;
  auto quoted = [&](size_t open, Term& term) {  // from the '"' at `open` to its pair
    size_t close = q.find('"', open + 1);
    if (close == std::string_view::npos) invalid_term("q", q.substr(i), "a quote is not closed");
    term.value = std::string(q.substr(open + 1, close - open - 1));
    return close + 1;
  };
  while (i < q.size()) {
    if (q[i] == ' ') {
      ++i;
      continue;
    }
    Term term;
    size_t end;
    if (q[i] == '"') {
      end = quoted(i, term);
    } else {
      size_t colon = q.find(':', i);
      size_t space = std::min(q.find(' ', i), q.size());
      if (colon < space) {
        term.key = std::string(q.substr(i, colon - i));
        if (colon + 1 < q.size() && q[colon + 1] == '"') {
          end = quoted(colon + 1, term);
        } else {
          end = space;
          term.value = std::string(q.substr(colon + 1, space - colon - 1));
        }
      } else {
        end = space;
        term.value = std::string(q.substr(i, space - i));
      }
    }
    term.text = std::string(q.substr(i, end - i));
    out.push_back(std::move(term));
    if (out.size() > kMaxTerms) invalid("q", "q may hold at most 32 terms");
    i = end;
  }
  return out;
}

std::optional<bool> archived_filter(const Term& term) {
  if (term.value == "true") return true;
  if (term.value == "false") return false;
  if (term.value == "any") return std::nullopt;
  invalid_term("q", term.text, "archived is true, false or any");
}

bool running_filter(const Term& term) {
  if (term.value == "running") return true;
  if (term.value == "idle") return false;
  invalid_term("q", term.text, "status is idle or running");
}

}  // namespace

std::optional<int> limit_param(const Request& request) {
  auto text = request.query_param("limit");
  if (!text) return std::nullopt;
  int value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size() || value < 1 || value > kMaxLimit)
    invalid("limit", "limit must be an integer from 1 to 200.");
  return value;
}

bool valid_label_key(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  return key.find_first_not_of(
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
         std::string_view::npos;
}

sql::ChatListQuery chat_list_query(const Request& request) {
  sql::ChatListQuery query;
  json labels = json::array();
  json words = json::array();
  for (const auto& term : terms(request.query_param("q").value_or(""))) {
    if (term.key.empty()) {
      if (!term.value.empty()) words.push_back(term.value);
    } else if (term.key == "archived") {
      query.archived = archived_filter(term);
    } else if (term.key == "status") {
      query.running = running_filter(term);
    } else if (term.key == "title") {
      if (term.value.empty()) invalid_term("q", term.text, "the title filter is empty");
      query.title = term.value;
    } else if (term.key == "label") {
      labels.push_back(label_filter(term.text, term.value, "q"));
    } else {
      words.push_back(term.text);  // an unknown key is part of a word: "http://…"
    }
  }
  for (const auto& label : request.query_params("label"))
    labels.push_back(label_filter(std::string("label=").append(label), label, "label"));
  if (labels.size() + words.size() > kMaxTerms)
    invalid("label", "q and label= may hold at most 32 terms together");
  query.labels = labels.dump();
  query.words = words.dump();
  query.limit = limit_param(request);
  if (auto before = request.query_param("before")) {
    auto id = base::parse_uuid(*before);
    if (!id) throw ApiError(400, "Invalid chat cursor.");
    query.before = *id;
  }
  return query;
}

std::optional<sql::MessagePageQuery> message_page_query(const Request& request) {
  auto limit = limit_param(request);
  auto before = request.query_param("before_id");
  auto after = request.query_param("after_id");
  if (!limit && !before && !after) return std::nullopt;
  return sql::MessagePageQuery{limit.value_or(kDefaultMessagePage), before, after};
}

std::string page_link(const Request& request, std::initializer_list<std::string_view> drop,
                      std::initializer_list<std::pair<std::string_view, std::string_view>> set,
                      std::string_view rel) {
  std::string query;
  std::string_view rest = request.query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    std::string key = base::percent_decode(pair.substr(0, pair.find('=')), true);
    // The token never goes into a link (proxies log them).
    bool dropped = key == "coder_session_token" ||
                   std::find(drop.begin(), drop.end(), key) != drop.end() ||
                   std::any_of(set.begin(), set.end(), [&](auto& p) { return p.first == key; });
    if (pair.empty() || dropped) continue;
    query.append(pair).append("&");
  }
  for (const auto& [name, value] : set)
    query.append(name).append("=").append(base::percent_encode(value)).append("&");
  query.pop_back();
  std::string link;
  link.append("<").append(request.path).append("?").append(query).append(">; rel=\"");
  return link.append(rel).append("\"");
}

}  // namespace chatd::http
