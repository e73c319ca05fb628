#include "llm/http_client.hpp"

#include <sys/epoll.h>

#include "llm/curl_request.hpp"

namespace chatd::llm {

using Clock = base::EventLoop::Clock;

struct HttpClient::Shard {
  HttpClient* client;
  CURLM* multi;
  base::EventLoop::TimerId timer = 0;  // curl's timer, when it asked for one
  size_t transfers = 0;
};

struct HttpClient::Transfer {
  Shard* shard;  // and through it the client
  Id id;
  CURL* easy = nullptr;
  HttpCall call;  // owns the URL, headers and body that curl points at
  detail::CurlHeaders headers{nullptr, curl_slist_free_all};
  Handlers handlers;
  HttpResult result;
  long status = -1;  // read on the first body byte
  bool paused = false;
  Clock::time_point last_activity = Clock::now();
  base::EventLoop::TimerId idle_timer = 0;
};

namespace {

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<HttpClient::Transfer*>(user);
  t->last_activity = Clock::now();
  if (auto value = detail::retry_after(std::string_view(data, size * count)))
    t->result.retry_after = std::move(*value);
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<HttpClient::Transfer*>(user);
  size_t n = size * count;
  t->last_activity = Clock::now();
  if (t->status < 0) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
  if (t->status == 200 && t->handlers.on_data) {
    auto take = t->handlers.on_data(std::string_view(data, n));
    t->last_activity = Clock::now();  // the time on_data took is not the provider's silence
    switch (take) {
      case HttpClient::Take::kTaken:
        return n;
      case HttpClient::Take::kFull:
        t->paused = true;
        return CURL_WRITEFUNC_PAUSE;
      case HttpClient::Take::kAbort:
        t->result.aborted = true;
        return CURL_WRITEFUNC_ERROR;
    }
  }
  size_t max_body = t->shard->client->limits().max_body;
  if (t->result.body.size() < max_body)
    t->result.body.append(data, std::min(n, max_body - t->result.body.size()));
  return n;
}

}  // namespace

HttpClient::HttpClient(base::EventLoop& loop, TransportLimits limits)
    : loop_(loop), limits_(limits) {}

HttpClient::~HttpClient() {
  // What still runs is dropped without a word; curl then has no socket or timer for the loop.
  while (!transfers_.empty()) drop(transfers_.begin()->first);
  for (auto socket : sockets_) loop_.unwatch(socket);
  for (auto& shard : shards_) {
    curl_multi_setopt(shard->multi, CURLMOPT_SOCKETFUNCTION, nullptr);
    curl_multi_setopt(shard->multi, CURLMOPT_TIMERFUNCTION, nullptr);
    if (shard->timer) loop_.cancel(shard->timer);
    curl_multi_cleanup(shard->multi);
  }
}

// The first shard with room, so that few transfers keep to the first one and reuse its
// connections; a new one when all are full.
HttpClient::Shard& HttpClient::shard_for_new_transfer() {
  for (auto& shard : shards_)
    if (shard->transfers < kTransfersPerMulti) return *shard;
  auto shard = std::make_unique<Shard>(Shard{this, curl_multi_init()});
  if (!shard->multi) throw std::runtime_error("curl_multi_init failed");
  curl_multi_setopt(shard->multi, CURLMOPT_SOCKETFUNCTION, &HttpClient::on_socket);
  curl_multi_setopt(shard->multi, CURLMOPT_SOCKETDATA, shard.get());
  curl_multi_setopt(shard->multi, CURLMOPT_TIMERFUNCTION, &HttpClient::on_timer);
  curl_multi_setopt(shard->multi, CURLMOPT_TIMERDATA, shard.get());
  shards_.push_back(std::move(shard));
  return *shards_.back();
}

HttpClient::Id HttpClient::start(const HttpCall& call, Handlers handlers) {
  auto owned = std::make_unique<Transfer>();
  Transfer& t = *owned;
  t.shard = &shard_for_new_transfer();
  t.id = next_id_++;
  t.call = call;
  t.handlers = std::move(handlers);
  t.easy = curl_easy_init();
  if (!t.easy) throw std::runtime_error("curl_easy_init failed");
  t.headers = detail::set_request(t.easy, t.call.method, t.call.url, t.call.headers, t.call.body);
  curl_easy_setopt(t.easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(limits_.connect_timeout.count()));
  curl_easy_setopt(t.easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(t.easy, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(t.easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(t.easy, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(t.easy, CURLOPT_NOPROGRESS, 1L);
  curl_easy_setopt(t.easy, CURLOPT_PRIVATE, &t);
  transfers_.emplace(t.id, std::move(owned));
  arm_idle(t);
  // Nothing happens inside: curl asks for a timer, and the loop starts the transfer.
  ++t.shard->transfers;
  curl_multi_add_handle(t.shard->multi, t.easy);
  return t.id;
}

void HttpClient::resume(Id id) {
  auto found = transfers_.find(id);
  if (found == transfers_.end() || !found->second->paused) return;
  Transfer& t = *found->second;
  t.paused = false;
  t.last_activity = Clock::now();
  arm_idle(t);
  // May hand the held bytes to on_data before it returns.
  curl_easy_pause(t.easy, CURLPAUSE_CONT);
}

void HttpClient::abort(Id id) { drop(id); }

// The idle timer is set once, and when it fires it looks at the transfer's last activity:
// bytes arriving cost a clock read, not a timer each.
void HttpClient::arm_idle(Transfer& t) {
  if (t.idle_timer) loop_.cancel(t.idle_timer);
  Id id = t.id;
  t.idle_timer = loop_.at(t.last_activity + limits_.idle_timeout, [this, id] {
    auto found = transfers_.find(id);
    if (found == transfers_.end()) return;
    Transfer& t = *found->second;
    t.idle_timer = 0;
    if (t.paused) return;  // waiting on the reader is not the provider's silence
    if (Clock::now() - t.last_activity < limits_.idle_timeout) {
      arm_idle(t);
      return;
    }
    t.result.stalled = true;
    finish(t, CURLE_OPERATION_TIMEDOUT);
  });
}

int HttpClient::on_socket(CURL*, curl_socket_t socket, int what, void* shard_ptr, void*) {
  auto* shard = static_cast<Shard*>(shard_ptr);
  HttpClient* self = shard->client;
  if (what == CURL_POLL_REMOVE) {
    self->loop_.unwatch(socket);
    self->sockets_.erase(socket);
    return 0;
  }
  uint32_t events = 0;
  if (what & CURL_POLL_IN) events |= EPOLLIN;
  if (what & CURL_POLL_OUT) events |= EPOLLOUT;
  try {
    self->loop_.watch(socket, events, [self, shard, socket](uint32_t ready) {
      int flags = 0;
      if (ready & EPOLLIN) flags |= CURL_CSELECT_IN;
      if (ready & EPOLLOUT) flags |= CURL_CSELECT_OUT;
      if (ready & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
      self->act(*shard, socket, flags);
    });
    self->sockets_.insert(socket);
  } catch (const std::exception&) {
    return -1;  // curl fails the transfers of this socket
  }
  return 0;
}

int HttpClient::on_timer(CURLM*, long timeout_ms, void* shard_ptr) {
  auto* shard = static_cast<Shard*>(shard_ptr);
  base::EventLoop& loop = shard->client->loop_;
  if (shard->timer) loop.cancel(shard->timer);
  shard->timer = 0;
  if (timeout_ms >= 0)
    shard->timer = loop.after(std::chrono::milliseconds(timeout_ms), [shard] {
      shard->timer = 0;
      shard->client->act(*shard, CURL_SOCKET_TIMEOUT, 0);
    });
  return 0;
}

void HttpClient::act(Shard& shard, curl_socket_t socket, int flags) {
  int running = 0;
  curl_multi_socket_action(shard.multi, socket, flags, &running);
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(shard.multi, &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &t);
    CURLcode code = message->data.result;  // the message is gone once the handle is removed
    if (t) finish(*t, code);
  }
}

void HttpClient::finish(Transfer& t, CURLcode code) {
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &t.result.status);
  if (code != CURLE_OK && !t.result.aborted)
    t.result.error = detail::failure_text(code, t.result.stalled, limits_.idle_timeout);
  HttpResult result = std::move(t.result);
  auto on_done = std::move(t.handlers.on_done);
  drop(t.id);  // before on_done, which may start the next transfer
  if (on_done) on_done(std::move(result));
}

void HttpClient::drop(Id id) {
  auto found = transfers_.find(id);
  if (found == transfers_.end()) return;
  Transfer& t = *found->second;
  if (t.idle_timer) loop_.cancel(t.idle_timer);
  curl_multi_remove_handle(t.shard->multi, t.easy);
  --t.shard->transfers;
  curl_easy_cleanup(t.easy);
  transfers_.erase(found);
}

}  // namespace chatd::llm
