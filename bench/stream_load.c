// Streaming load generator for bench/streaming.sh: opens N concurrent HTTP/1.1 POSTs (spread
// over a ramp), reads each streamed reply (chunked or close-delimited) in one epoll loop, and
// records per reply: status, time to the first byte of the response and to the first text
// part, the gaps between consecutive text parts, and how it ended. Prints one JSON object.
//
//   stream_load --port P --paths FILE --body FILE --format datastream|openai --n N
//               [--header 'Name: value']... [--ramp-s 2] [--deadline-s 30]
//
// --paths: one request path per line, optionally followed by a tab and one more header line
//   (e.g. that chat owner's token); reply i uses line i (mod the count), e.g. one chat each.
// --format datastream: AI SDK data stream (chatd, the AI SDK Node server): text parts are
//   lines starting `0:`, success ends with a `d:` line, `3:` is an error part.
// --format openai: OpenAI SSE relayed as is: text parts are `data: ` lines with a non-empty
//   "content", success ends with `data: [DONE]`.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { FMT_DATASTREAM, FMT_OPENAI };
enum { ST_HEAD, ST_SIZE, ST_DATA, ST_DATA_CRLF, ST_PLAIN, ST_DONE };
enum { END_NONE, END_OK, END_CONNECT, END_STATUS, END_EARLY, END_ERROR_PART, END_TIMEOUT };
static const char* kEndNames[] = {"none",    "ok",         "connect_error", "http_status",
                                  "cut_off", "error_part", "timeout"};

typedef struct {
  int fd, state, status, end, saw_done, saw_error, err;  // err: errno of a failed socket call
  size_t sent, chunk_left;
  double t_start, t_first_byte, t_first_text, t_last_text;
  long parts;
  char* head;  // response head, then the current partial line
  size_t head_len, head_cap;
  char size_line[32];
  size_t size_len;
} Conn;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct {
  double* v;
  size_t n, cap;
} Vec;

static void push(Vec* vec, double x) {
  if (vec->n == vec->cap) {
    vec->cap = vec->cap ? vec->cap * 2 : 1024;
    vec->v = realloc(vec->v, vec->cap * sizeof(double));
  }
  vec->v[vec->n++] = x;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static double pct(Vec* vec, double p) {
  if (vec->n == 0) return -1;
  size_t i = (size_t)(p / 100.0 * (vec->n - 1) + 0.5);
  return vec->v[i];
}

static char* slurp(const char* path, size_t* len) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* buf = malloc(n + 1);
  if (fread(buf, 1, n, f) != (size_t)n) exit(2);
  buf[n] = 0;
  fclose(f);
  *len = n;
  return buf;
}

static int format = FMT_DATASTREAM;
static Vec gaps, ttfb, first_text;
static long total_parts;

static void append(Conn* c, const char* data, size_t n) {
  if (c->head_len + n + 1 > c->head_cap) {
    c->head_cap = (c->head_len + n + 1) * 2;
    c->head = realloc(c->head, c->head_cap);
  }
  memcpy(c->head + c->head_len, data, n);
  c->head_len += n;
  c->head[c->head_len] = 0;
}

static void on_line(Conn* c, const char* line, size_t n, double t) {
  int text = 0;
  if (format == FMT_DATASTREAM) {
    if (n >= 2 && line[0] == '0' && line[1] == ':') text = 1;
    if (n >= 2 && line[0] == 'd' && line[1] == ':') c->saw_done = 1;
    if (n >= 2 && line[0] == '3' && line[1] == ':') c->saw_error = 1;
  } else if (n > 6 && memcmp(line, "data: ", 6) == 0) {
    if (memmem(line, n, "[DONE]", 6))
      c->saw_done = 1;
    else if (memmem(line, n, "\"error\"", 7))
      c->saw_error = 1;
    else if (memmem(line, n, "\"content\":\"", 11) && !memmem(line, n, "\"content\":\"\"", 12))
      text = 1;
  }
  if (!text) return;
  c->parts++;
  total_parts++;
  if (c->t_first_text == 0) {
    c->t_first_text = t;
    push(&first_text, (t - c->t_start) * 1000);
  } else {
    push(&gaps, (t - c->t_last_text) * 1000);
  }
  c->t_last_text = t;
}

// Body bytes after de-chunking: split into lines (the partial one waits in c->head).
static void on_body(Conn* c, const char* data, size_t n, double t) {
  while (n > 0) {
    const char* nl = memchr(data, '\n', n);
    if (!nl) {
      append(c, data, n);
      return;
    }
    size_t k = nl - data;
    if (c->head_len) {
      append(c, data, k);
      on_line(c, c->head, c->head_len, t);
      c->head_len = 0;
    } else {
      on_line(c, data, k, t);
    }
    data += k + 1;
    n -= k + 1;
  }
}

static void finish(Conn* c, int end) {
  if (c->end != END_NONE) return;
  if (end == END_OK && c->saw_error) end = END_ERROR_PART;
  if (end == END_OK && !c->saw_done) end = END_EARLY;
  c->end = end;
  c->state = ST_DONE;
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
}

static void on_data(Conn* c, const char* data, size_t n, double t) {
  if (c->t_first_byte == 0) {
    c->t_first_byte = t;
    push(&ttfb, (t - c->t_start) * 1000);
  }
  while (n > 0 && c->state != ST_DONE) {
    switch (c->state) {
      case ST_HEAD: {
        append(c, data, n);
        char* end = strstr(c->head, "\r\n\r\n");
        if (!end) return;
        size_t head_len = end + 4 - c->head;
        size_t rest = c->head_len - head_len;
        c->status = atoi(c->head + 9);
        int chunked = strcasestr(c->head, "transfer-encoding: chunked") &&
                      strcasestr(c->head, "transfer-encoding: chunked") < end;
        char* tail = malloc(rest + 1);
        memcpy(tail, c->head + head_len, rest);
        c->head_len = 0;
        if (c->status != 200) {
          free(tail);
          finish(c, END_STATUS);
          return;
        }
        c->state = chunked ? ST_SIZE : ST_PLAIN;
        on_data(c, tail, rest, t);
        free(tail);
        return;
      }
      case ST_SIZE: {
        const char* nl = memchr(data, '\n', n);
        size_t k = nl ? (size_t)(nl - data + 1) : n;
        if (c->size_len + k < sizeof c->size_line) memcpy(c->size_line + c->size_len, data, k);
        c->size_len += k;
        data += k;
        n -= k;
        if (!nl) break;
        c->size_line[c->size_len < sizeof c->size_line ? c->size_len : 0] = 0;
        c->chunk_left = strtoul(c->size_line, NULL, 16);
        c->size_len = 0;
        if (c->chunk_left == 0) {
          finish(c, END_OK);  // last chunk (trailers ignored)
          return;
        }
        c->state = ST_DATA;
        break;
      }
      case ST_DATA: {
        size_t k = n < c->chunk_left ? n : c->chunk_left;
        on_body(c, data, k, t);
        data += k;
        n -= k;
        c->chunk_left -= k;
        if (c->chunk_left == 0) c->state = ST_DATA_CRLF;
        break;
      }
      case ST_DATA_CRLF: {
        const char* nl = memchr(data, '\n', n);
        if (!nl) return;
        n -= nl - data + 1;
        data = nl + 1;
        c->state = ST_SIZE;
        break;
      }
      case ST_PLAIN:
        on_body(c, data, n, t);
        return;
    }
  }
}

static void usage(void) {
  fprintf(stderr,
          "usage: stream_load --port P --paths FILE --body FILE --format datastream|openai "
          "--n N [--header H]... [--ramp-s S] [--deadline-s S]\n");
  exit(2);
}

int main(int argc, char** argv) {
  int port = 0, n = 0;
  double ramp = 2, deadline_s = 30;
  const char *paths_file = NULL, *body_file = NULL;
  char headers[8192] = "";
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--port"))
      port = atoi(v);
    else if (!strcmp(k, "--n"))
      n = atoi(v);
    else if (!strcmp(k, "--ramp-s"))
      ramp = atof(v);
    else if (!strcmp(k, "--deadline-s"))
      deadline_s = atof(v);
    else if (!strcmp(k, "--paths"))
      paths_file = v;
    else if (!strcmp(k, "--body"))
      body_file = v;
    else if (!strcmp(k, "--format"))
      format = !strcmp(v, "openai") ? FMT_OPENAI : FMT_DATASTREAM;
    else if (!strcmp(k, "--header")) {
      strncat(headers, v, sizeof headers - strlen(headers) - 3);
      strcat(headers, "\r\n");
    } else
      usage();
  }
  if (!port || !n || !paths_file || !body_file) usage();

  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  size_t body_len, paths_len;
  char* body = slurp(body_file, &body_len);
  char* paths_text = slurp(paths_file, &paths_len);
  char** paths = NULL;
  size_t npaths = 0;
  for (char* line = strtok(paths_text, "\n"); line; line = strtok(NULL, "\n")) {
    paths = realloc(paths, (npaths + 1) * sizeof *paths);
    paths[npaths++] = line;
  }
  if (npaths == 0) usage();

  Conn* conns = calloc(n, sizeof(Conn));
  char** requests = calloc(n, sizeof(char*));
  size_t* request_len = calloc(n, sizeof(size_t));
  for (int i = 0; i < n; i++) {
    const char* line = paths[i % npaths];
    const char* tab = strchr(line, '\t');
    int path_len = tab ? (int)(tab - line) : (int)strlen(line);
    const char* extra = tab ? tab + 1 : "";
    size_t cap = body_len + strlen(headers) + strlen(line) + 1024;
    requests[i] = malloc(cap);
    int head = snprintf(requests[i], cap,
                        "POST %.*s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%sContent-Type: "
                        "application/json\r\nContent-Length: %zu\r\n\r\n",
                        path_len, line, headers, extra, *extra ? "\r\n" : "", body_len);
    memcpy(requests[i] + head, body, body_len);
    request_len[i] = head + body_len;
    conns[i].fd = -1;
  }

  int ep = epoll_create1(0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  double t0 = now_s(), deadline = t0 + deadline_s;
  int opened = 0, finished = 0, peak_open = 0, open_now = 0;
  double all_open_at = 0;
  static char buf[1 << 16];
  struct epoll_event events[512];
  while (finished < n) {
    double t = now_s();
    if (t >= deadline) break;
    while (opened < n && (ramp <= 0 || t >= t0 + ramp * opened / n)) {
      Conn* c = &conns[opened];
      c->t_start = now_s();
      c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      int one = 1;
      setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (c->fd < 0 ||
          (connect(c->fd, (struct sockaddr*)&addr, sizeof addr) < 0 && errno != EINPROGRESS)) {
        c->err = errno;
        finish(c, END_CONNECT);
        finished++;
      } else {
        struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.u32 = opened};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        open_now++;
        if (open_now > peak_open) peak_open = open_now;
      }
      opened++;
    }
    int wait_ms = 50;
    if (opened < n) {
      double next = t0 + ramp * opened / n - now_s();
      wait_ms = next <= 0 ? 0 : (int)(next * 1000) + 1;
      if (wait_ms > 50) wait_ms = 50;
    }
    int ready = epoll_wait(ep, events, 512, wait_ms);
    double tr = now_s();
    for (int e = 0; e < ready; e++) {
      int i = events[e].data.u32;
      Conn* c = &conns[i];
      if (c->state == ST_DONE) continue;
      if (c->sent < request_len[i] && (events[e].events & EPOLLOUT)) {
        ssize_t w = write(c->fd, requests[i] + c->sent, request_len[i] - c->sent);
        if (w < 0 && errno != EAGAIN) {
          c->err = errno;
          finish(c, c->t_first_byte ? END_EARLY : END_CONNECT);
          finished++;
          open_now--;
          continue;
        }
        if (w > 0) c->sent += w;
        if (c->sent == request_len[i]) {
          struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = i};
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
      }
      if (events[e].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        for (;;) {
          ssize_t r = read(c->fd, buf, sizeof buf);
          if (r > 0) {
            on_data(c, buf, r, tr);
            if (c->state == ST_DONE) break;
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            if (r < 0) c->err = errno;
            if (c->state == ST_HEAD)
              finish(c, c->t_first_byte ? END_EARLY : END_CONNECT);
            else
              finish(c, c->state == ST_PLAIN ? END_OK : END_EARLY);
          }
          break;
        }
        if (c->state == ST_DONE) {
          finished++;
          open_now--;
        }
      }
    }
    if (!all_open_at && opened == n && open_now == n - finished && finished == 0) {
      int all_streaming = 1;
      for (int i = 0; i < n && all_streaming; i++) all_streaming = conns[i].t_first_byte > 0;
      if (all_streaming) all_open_at = now_s() - t0;
    }
  }
  double elapsed = now_s() - t0;
  long ends[7] = {0};
  for (int i = 0; i < n; i++) {
    if (conns[i].end == END_NONE) finish(&conns[i], END_TIMEOUT);
    ends[conns[i].end]++;
  }
  int statuses[600] = {0};
  for (int i = 0; i < n; i++)
    if (conns[i].end == END_STATUS && conns[i].status > 0 && conns[i].status < 600)
      statuses[conns[i].status]++;

  qsort(gaps.v, gaps.n, sizeof(double), cmp_double);
  qsort(ttfb.v, ttfb.n, sizeof(double), cmp_double);
  qsort(first_text.v, first_text.n, sizeof(double), cmp_double);
  printf(
      "{\"n\":%d,\"elapsed_s\":%.3f,\"all_streaming_at_s\":%.3f,\"peak_open\":%d,"
      "\"parts\":%ld,",
      n, elapsed, all_open_at, peak_open, total_parts);
  printf("\"ends\":{");
  for (int k = 1; k < 7; k++) printf("%s\"%s\":%ld", k > 1 ? "," : "", kEndNames[k], ends[k]);
  printf("},\"statuses\":{");
  int first = 1;
  for (int s = 0; s < 600; s++)
    if (statuses[s]) {
      printf("%s\"%d\":%d", first ? "" : ",", s, statuses[s]);
      first = 0;
    }
  printf("},\"errnos\":{");
  int errnos[256] = {0};
  for (int i = 0; i < n; i++)
    if (conns[i].end != END_OK && conns[i].err > 0 && conns[i].err < 256) errnos[conns[i].err]++;
  first = 1;
  for (int e = 0; e < 256; e++)
    if (errnos[e]) {
      printf("%s\"%s\":%d", first ? "" : ",", strerrorname_np(e), errnos[e]);
      first = 0;
    }
  printf("},\"errors\":%ld,", n - ends[END_OK]);
  printf("\"ttfb_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},", pct(&ttfb, 50), pct(&ttfb, 99),
         pct(&ttfb, 100));
  printf("\"first_text_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},", pct(&first_text, 50),
         pct(&first_text, 99), pct(&first_text, 100));
  printf(
      "\"gap_ms\":{\"n\":%zu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,"
      "\"max\":%.3f}}\n",
      gaps.n, pct(&gaps, 50), pct(&gaps, 90), pct(&gaps, 99), pct(&gaps, 99.9), pct(&gaps, 100));
  return 0;
}
