#include "llm/title.hpp"

#include "llm/sse_parser.hpp"

namespace chatd::llm {

using nlohmann::json;

namespace {

constexpr const char* kTitlePrompt =
    "- You will generate a short title based on the user's message.\n"
    "- It should be maximum of 40 characters.\n"
    "- Do not use quotes, colons, special characters, or emojis.";

}  // namespace

std::string clean_title(std::string_view raw) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < raw.size() && chars < 40;) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + len > raw.size()) break;
    std::string_view ch = raw.substr(i, len);
    i += len;
    if (len == 1) {
      if (c == '"' || c == '\'' || c == '`' || c == ':' || c == '*' || c == '#') continue;
      if (c < 0x20) c = ' ';
      if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
      out += static_cast<char>(c);
    } else {
      // Emoji and pictographs live in the 4-byte range and in U+2600-U+27BF (E2 98-9E).
      if (len == 4) continue;
      if (len == 3 && c == 0xE2 && static_cast<unsigned char>(ch[1]) >= 0x98 &&
          static_cast<unsigned char>(ch[1]) <= 0x9E)
        continue;
      // Typographic quotes.
      if (ch == "\u201C" || ch == "\u201D" || ch == "\u2018" || ch == "\u2019" || ch == "\u00AB" ||
          ch == "\u00BB")
        continue;
      out += ch;
    }
    ++chars;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
  return out;
}

std::string fallback_title(std::string_view user_text) {
  std::string title = clean_title(user_text);
  return title.empty() ? "New Chat" : title;
}

TitleJob::Start title_request(const Provider& provider, Upstream& upstream, std::string model,
                              json user_message, ReplyObserver* observer,
                              std::function<void(const Usage&)> on_call) {
  return [&provider, &upstream, observer, model = std::move(model),
          user_message = std::move(user_message),
          on_call = std::move(on_call)](std::function<void(std::string)> done) {
    ModelRequest request;
    request.model = model;
    request.system_prompt = kTitlePrompt;
    request.messages = json::array({user_message});
    request.max_tokens = 64;
    struct Reading {
      SseParser parser;
      std::unique_ptr<StreamMapper> mapper;
      std::vector<SseEvent> sse;
      std::vector<ModelEvent> events;
      std::string text;
      std::string failure;
      bool answered = false;  // its body began (a 200): a call to record, once
      bool recorded = false;
      void take() {
        for (const auto& e : sse) mapper->on_event(e, events);
        sse.clear();
        for (const auto& e : events) {
          if (auto* t = std::get_if<TextDelta>(&e)) text += t->text;
          if (auto* f = std::get_if<StreamError>(&e)) failure = f->message;
        }
        events.clear();
      }
    };
    auto reading = std::make_shared<Reading>();
    reading->mapper = provider.new_stream_mapper();
    Upstream::Handlers handlers;
    handlers.on_data = [reading](std::string_view bytes) {
      reading->answered = true;
      reading->parser.feed(bytes, reading->sse);
      reading->take();
      // A title is a few words: a model that goes on and on has said enough.
      return reading->text.size() < 4096 ? Upstream::Take::kTaken : Upstream::Take::kAbort;
    };
    handlers.on_done = [reading, &provider, observer, on_call,
                        done = std::move(done)](HttpResult result) {
      if (observer)
        observer->upstream_call(provider.type(), result.status,
                                result.status == 200 ? UpstreamFailure::kNone
                                : result.status == 0 ? UpstreamFailure::kConnect
                                                     : UpstreamFailure::kStatus);
      if (result.status != 200) return done("");
      reading->parser.finish(reading->sse);
      reading->take();
      reading->recorded = true;
      if (on_call) on_call(reading->mapper->usage());
      done(reading->failure.empty() ? clean_title(reading->text) : "");
    };
    Upstream::Id id = upstream.start(provider.stream_call(request), std::move(handlers));
    // Abandoned (the reply ended first): a call the provider answered is recorded all the same,
    // with what it reported so far.
    return std::function<void()>([&upstream, id, reading, on_call] {
      upstream.abort(id);
      if (reading->answered && !reading->recorded && on_call) {
        reading->recorded = true;
        on_call(reading->mapper->usage());
      }
    });
  };
}

}  // namespace chatd::llm
