// What the process model learns about a request while it runs, and what it can report back
// (GET /metrics, GET /status). worker/ implements it over its shared scoreboard; handlers/ and
// llm/ only see this interface. Every call is cheap, never blocks, never throws, and is made
// on the thread that runs the request (except where a method says otherwise).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "llm/reply.hpp"

namespace chatd::http {

class Observer {
 public:
  virtual ~Observer() = default;

  // The request matched this route (method and pattern of the route table).
  virtual void on_route(std::string_view /*method*/, std::string_view /*pattern*/) {}
  // The request was authenticated as this user.
  virtual void on_user(std::string_view /*user_id*/) {}
  // The request concerns this chat (a canonical UUID).
  virtual void on_chat(std::string_view /*chat_id*/) {}
  // The request runs a reply with this model.
  virtual void on_model(std::string_view /*model*/) {}
  // Counts what replies do (parts, tokens, upstream calls); null when nothing counts. Its
  // methods may be called from any thread.
  virtual llm::ReplyObserver* replies() { return nullptr; }

  // GET /metrics: every worker's counters in the Prometheus text format.
  virtual std::string metrics_text() { return {}; }
  // GET /status: the scoreboard (master, workers, requests in flight) as JSON.
  virtual nlohmann::ordered_json status_json() { return nlohmann::ordered_json::object(); }
};

// The observer that observes nothing, for a context without one.
inline Observer& no_observer() {
  static Observer none;
  return none;
}

}  // namespace chatd::http
