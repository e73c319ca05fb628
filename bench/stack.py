#!/usr/bin/env python3
"""A throwaway benchmark stack in a temp dir: PostgreSQL, the fake provider, chatd, nginx, and
the baselines (nginx alone, the libfcgi floor worker, PHP-FPM, the AI SDK Node server), started
the way tests/integration/harness.cpp starts them, seeded with SQL, torn down at the end.

As a module: `with Stack() as s: s.start_postgres(); ...` (the benchmarks in this folder).
As a command, for poking at it by hand (bounded: it tears down after --seconds):

    bench/stack.py up [--seconds 600] [--workers 2] [--threads 64]

(after one of the bench/*.sh scripts has built build-bench/, or with BENCH_BUILD=DIR).

Needs root (initdb runs as the postgres user, nginx and PHP-FPM as root). Loopback only.
"""
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
PG_BIN = "/usr/lib/postgresql/15/bin/"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

# Fixed tokens ("<10 alnum id>-<22 alnum secret>"): stored hashed by the seed SQL.
TOKENS = {
    "lister": "benchList0-" + "L" * 22,   # 20 chats, one of them with 200 messages
    "streamer": "benchStrm0-" + "S" * 22,  # short chats (2 messages each)
    "longuser": "benchLong0-" + "H" * 22,  # one chat with 10,000 messages
}
FAKE_MODEL = "fake-model"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def process_tree(pid):
    """pid and its descendants forked by main threads (all the services here fork that way;
    reading every thread's list would cost thousands of reads in a worker with 2,500 threads)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(int(c) for c in read(f"/proc/{p}/task/{p}/children").split())
    return out


def cpu_seconds(pids):
    total = 0
    for p in pids:
        stat = read(f"/proc/{p}/stat")
        if stat:
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLK_TCK


def rss_kb(pids):
    total = 0
    for p in pids:
        statm = read(f"/proc/{p}/statm").split()
        if statm:
            total += int(statm[1]) * PAGE_KB
    return total


def thread_count(pids):
    n = 0
    for p in pids:
        m = re.search(r"^Threads:\s+(\d+)", read(f"/proc/{p}/status"), re.M)
        n += int(m.group(1)) if m else 0
    return n


class Service:
    def __init__(self, name, argv, log, env=None):
        self.name, self.log = name, log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         env=env)

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc.poll() is None

    def pids(self):
        return process_tree(self.pid) if self.running() else []

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)  # its own session: the service and its children
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of that process group (children that outlived their parent)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(5)
        # Gone only once the whole group is: a killed worker still exiting keeps its sockets
        # (a restarted chatd would find its socket "in use by another process").
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)


class Stack:
    def __init__(self, chatd_bin=None, fake_bin=None, keep=False):
        build = os.environ.get("BENCH_BUILD", os.path.join(REPO, "build-bench"))
        self.chatd_bin = chatd_bin or os.path.join(build, "chatd")
        self.fake_bin = fake_bin or os.path.join(build, "tests", "fake_provider")
        self.dir = tempfile.mkdtemp(prefix="chatd-bench-")
        os.chmod(self.dir, 0o755)
        self.keep = keep or bool(os.environ.get("KEEP_BENCH_DIR"))
        self.services = {}
        self.pg_running = False
        self.nginx_ports = {}
        self.servers = {}  # name -> nginx server block text
        self.nginx_workers = "auto"
        self.worker_connections = 16384

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self):
        # A bounded run killed by `timeout` (SIGTERM) still tears its stack down.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
        return self

    def __exit__(self, *exc):
        self.teardown()

    def teardown(self):
        for name in reversed(list(self.services)):
            self.services[name].stop()
        self.services.clear()
        if self.pg_running:
            subprocess.run(["runuser", "-u", "postgres", "--", PG_BIN + "pg_ctl", "-D",
                            self.dir + "/pg/data", "-w", "-m", "immediate", "stop"],
                           capture_output=True)
            self.pg_running = False
        if self.keep:
            print(f"kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def service(self, name, argv, env=None):
        log = f"{self.dir}/{name}.log"
        if os.path.exists(log):  # a restart: its readiness line must be its own
            os.rename(log, f"{log}.{time.time_ns()}")
        s = Service(name, argv, log, env)
        self.services[name] = s
        return s

    def stop_service(self, name):
        s = self.services.pop(name, None)
        if s:
            s.stop()

    # -- PostgreSQL -------------------------------------------------------------------------
    def start_postgres(self, max_connections=600):
        pg = self.dir + "/pg"
        os.makedirs(pg)
        shutil.chown(pg, "postgres", "postgres")
        self._as_postgres([PG_BIN + "initdb", "-D", pg + "/data", "-A", "trust", "-U", "postgres",
                           "--no-sync"])
        opts = (f"-k {pg} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                f"-c max_connections={max_connections} -c shared_buffers=512MB "
                + os.environ.get("BENCH_PG_OPTIONS", ""))
        self._as_postgres([PG_BIN + "pg_ctl", "-D", pg + "/data", "-w", "-l", pg + "/postgres.log",
                           "-o", opts, "start"])
        self.pg_running = True
        self.use_database("chatd")

    def use_database(self, name):
        """Makes database `name` (created if new) the one psql, migrate, seed and chatd use: an
        earlier build of chatd with an older schema gets one of its own."""
        if self.psql(f"SELECT count(*) FROM pg_database WHERE datname = '{name}'",
                     db="postgres") == "0":
            self.psql(f"CREATE DATABASE {name}", db="postgres")
        self.db = name
        self.database_url = f"host={self.dir}/pg dbname={name} user=postgres"

    def _as_postgres(self, argv):
        r = subprocess.run(["runuser", "-u", "postgres", "--"] + argv, capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {r.stdout}{r.stderr}")
        return r.stdout

    def psql(self, sql, db=None):
        r = subprocess.run([PG_BIN + "psql", "-h", self.dir + "/pg", "-U", "postgres", "-d",
                            db or self.db,
                            "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"], input=sql,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr}")
        return r.stdout.strip()

    def postgres_pids(self):
        pid = int(read(self.dir + "/pg/data/postmaster.pid").split("\n", 1)[0])
        return process_tree(pid)

    def migrate(self, binary=None):
        r = subprocess.run([binary or self.chatd_bin, "migrate", "--database-url",
                            self.database_url],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("chatd migrate failed: " + r.stdout + r.stderr)

    # -- seed -------------------------------------------------------------------------------
    def seed(self, list_chats=20, list_messages=200, stream_chats=0, stream_users=0,
             short_chats=0, long_messages=0):
        """Users with fixed tokens; the lister's chats (the newest one holds list_messages
        messages); stream_chats chats spread over stream_users users (see stream_chats()) and
        short_chats chats of the streamer, each with one earlier exchange (so no title request
        runs); one chat of long_messages messages."""
        sql = ["BEGIN;"]
        for user, token in TOKENS.items():
            key, secret = token.split("-")
            sql.append(f"""
WITH u AS (INSERT INTO users (username) VALUES ('{user}') RETURNING id)
INSERT INTO api_keys (id, hashed_secret, user_id, expires_at)
SELECT '{key}', sha256('{secret}'::bytea), id, now() + interval '30 days' FROM u;""")
        sql.append(f"""
INSERT INTO chats (owner_id, title, created_at, updated_at)
SELECT (SELECT id FROM users WHERE username = 'lister'), 'Benchmark chat ' || i,
       now() - i * interval '1 minute', now() - i * interval '1 minute'
  FROM generate_series(1, {list_chats}) i;""")
        sql.append(self._messages_sql(
            "(SELECT c.id FROM chats c JOIN users u ON u.id = c.owner_id "
            "WHERE u.username = 'lister' ORDER BY c.created_at DESC LIMIT 1)", list_messages))
        if stream_chats:
            # Chat j belongs to stream user j mod stream_users: any stream_users consecutive
            # chats have distinct owners, so a run of N ≤ stream_users replies is N users with
            # one reply each (as many users would be, and under max-replies-per-user).
            users = stream_users or 1
            sql.append(f"""
INSERT INTO users (username) SELECT 'su' || i FROM generate_series(0, {users - 1}) i;
INSERT INTO api_keys (id, hashed_secret, user_id, expires_at)
SELECT 'su' || lpad(substr(u.username, 3), 8, '0'),
       sha256(lpad(substr(u.username, 3), 22, '0')::bytea), u.id, now() + interval '30 days'
  FROM users u WHERE u.username LIKE 'su%';
INSERT INTO chats (owner_id, title, created_at)
SELECT u.id, 'Stream chat ' || j, now() - j * interval '1 millisecond'
  FROM generate_series(0, {stream_chats - 1}) j
  JOIN users u ON u.username = 'su' || (j % {users});
INSERT INTO chat_messages (chat_id, created_at, model, provider, content)
SELECT c.id, c.created_at + (r - 1) * interval '1 millisecond', '{FAKE_MODEL}', 'openai',
       jsonb_build_object('id', 'msg-' || substr(md5(c.id::text || r), 1, 24),
                          'createdAt', chatd_time(c.created_at), 'role', role,
                          'content', 'Earlier turn', 'parts',
                          jsonb_build_array(jsonb_build_object('type', 'text',
                                                               'text', 'Earlier turn')))
  FROM chats c JOIN users u ON u.id = c.owner_id AND u.username LIKE 'su%',
       unnest(ARRAY['user', 'assistant']) WITH ORDINALITY AS t(role, r);""")
        if short_chats:
            sql.append(f"""
INSERT INTO chats (owner_id, title, created_at)
SELECT (SELECT id FROM users WHERE username = 'streamer'), 'Short chat ' || i,
       now() - i * interval '1 second'
  FROM generate_series(1, {short_chats}) i;
INSERT INTO chat_messages (chat_id, created_at, model, provider, content)
SELECT c.id, c.created_at + (r - 1) * interval '1 second', '{FAKE_MODEL}', 'openai',
       jsonb_build_object('id', 'msg-' || substr(md5(c.id::text || r), 1, 24),
                          'createdAt', chatd_time(c.created_at), 'role', role,
                          'content', 'Earlier turn', 'parts',
                          jsonb_build_array(jsonb_build_object('type', 'text',
                                                               'text', 'Earlier turn')))
  FROM chats c, unnest(ARRAY['user', 'assistant']) WITH ORDINALITY AS t(role, r)
 WHERE c.owner_id = (SELECT id FROM users WHERE username = 'streamer');""")
        if long_messages:
            sql.append("""
INSERT INTO chats (owner_id, title) SELECT id, 'Long chat' FROM users WHERE username = 'longuser';""")
            sql.append(self._messages_sql(
                "(SELECT c.id FROM chats c JOIN users u ON u.id = c.owner_id "
                "WHERE u.username = 'longuser')", long_messages))
        sql.append("COMMIT; ANALYZE;")
        self.psql("\n".join(sql))

    @staticmethod
    def _messages_sql(chat, count):
        """count messages alternating user (about 150 bytes of text) and assistant (about 600),
        in the shape chatd stores: the AI SDK UI message."""
        return f"""
INSERT INTO chat_messages (chat_id, created_at, model, provider, content, finish_reason)
SELECT {chat}, now() - ({count} - i) * interval '1 second', '{FAKE_MODEL}', 'openai',
       CASE WHEN i % 2 = 1 THEN
         jsonb_build_object('id', 'msg-' || substr(md5(i::text), 1, 24),
           'createdAt', chatd_time(now() - ({count} - i) * interval '1 second'),
           'role', 'user', 'content', 'Question ' || i || ': ' || repeat(md5(i::text) || ' ', 4),
           'parts', jsonb_build_array(jsonb_build_object('type', 'text',
              'text', 'Question ' || i || ': ' || repeat(md5(i::text) || ' ', 4))))
       ELSE
         jsonb_build_object('id', 'msg-' || substr(md5('a' || i), 1, 24),
           'createdAt', chatd_time(now() - ({count} - i) * interval '1 second'),
           'role', 'assistant', 'content', repeat(md5('a' || i) || ' ', 18),
           'parts', jsonb_build_array(jsonb_build_object('type', 'step-start'),
              jsonb_build_object('type', 'text', 'text', repeat(md5('a' || i) || ' ', 18))))
       END,
       CASE WHEN i % 2 = 0 THEN 'stop' END
  FROM generate_series(1, {count}) i;"""

    def stream_chats(self):
        """[(chat id, token of its owner)] of the stream users, in the order seeded."""
        rows = self.psql("SELECT c.id || ' ' || substr(u.username, 3) FROM chats c JOIN users u "
                         "ON u.id = c.owner_id WHERE u.username LIKE 'su%' ORDER BY c.created_at "
                         "DESC").split("\n")
        return [(chat, f"su{int(i):08d}-{int(i):022d}")
                for chat, i in (row.split() for row in rows if row)]

    def chat_ids(self, user, limit=None):
        q = (f"SELECT c.id FROM chats c JOIN users u ON u.id = c.owner_id WHERE u.username = "
             f"'{user}' ORDER BY c.created_at DESC" + (f" LIMIT {limit}" if limit else ""))
        return self.psql(q).split()

    # -- fake provider ----------------------------------------------------------------------
    def start_fake(self):
        s = self.service("fake", [self.fake_bin, "--port", "0"])
        m = []
        wait_until(lambda: m.extend(re.findall(r"listening on 127\.0\.0\.1:(\d+)",
                                               read(s.log))) or m, 10, "fake provider")
        self.fake_port = int(m[0])
        return s

    # -- chatd ------------------------------------------------------------------------------
    def start_chatd(self, workers=2, threads=4, db_pool=8, extra=(), binary=None, name="chatd",
                    database_url=None):
        """chatd (or an earlier build of it, `binary`) as service `name` on socket DIR/name.sock
        (self.chatd_socket for the default name)."""
        self.stop_service(name)
        socket = f"{self.dir}/{name}.sock"
        if name == "chatd":
            self.chatd_socket = socket
        argv = [binary or self.chatd_bin, "serve", "--listen", "unix:" + socket,
                "--socket-mode", "0666", "--database-url", database_url or self.database_url,
                "--workers", str(workers), "--threads", str(threads),
                "--db-pool-size", str(db_pool), "--log-level", "warn",
                # One user makes thousands of requests a second here, which the per-user rate
                # limit exists to refuse; with it on but out of reach, that one user's requests
                # queue on its row (README "Limits"), which many users under their limits
                # never do. So: off.
                "--rate-limit", "0",
                "--provider", f"type=openai;api-key=bench;base-url=http://127.0.0.1:"
                              f"{self.fake_port}/v1;models={FAKE_MODEL}", *extra]
        s = self.service(name, argv)
        # "chatd ready" is logged at info; with --log-level warn wait for every worker instead.
        wait_until(lambda: not s.running() or (
            os.path.exists(socket) and len(s.pids()) >= workers + 1 and
            thread_count(s.pids()[1:]) >= workers * threads), 60, name)
        if not s.running():
            raise RuntimeError("chatd did not start:\n" + read(s.log))
        time.sleep(0.5)
        return s

    # -- floor worker (b) -------------------------------------------------------------------
    def start_floor(self, binary, workers=2, threads=64, pool=16, name="floor"):
        socket = f"{self.dir}/{name}.sock"
        s = self.service(name, [binary, "--listen", socket, "--database-url",
                                self.database_url, "--workers", str(workers), "--threads",
                                str(threads), "--pool", str(pool)])
        wait_until(lambda: "floor_worker ready" in read(s.log) or not s.running(), 10, name)
        return socket

    # -- PHP-FPM (c) ------------------------------------------------------------------------
    def start_php(self, children=64):
        php = self.dir + "/php"
        os.makedirs(php)
        shutil.copy(os.path.join(BENCH, "php", "handler.php"), php + "/handler.php")
        self.php_socket = php + "/php.sock"
        with open(php + "/fpm.conf", "w") as f:
            f.write(f"""[global]
pid = {php}/fpm.pid
error_log = {php}/error.log
daemonize = no
[bench]
user = www-data
group = www-data
listen = {self.php_socket}
listen.mode = 0666
listen.backlog = 511
pm = static
pm.max_children = {children}
clear_env = no
env[BENCH_PGHOST] = {self.dir}/pg
php_admin_value[opcache.enable] = 1
php_admin_value[opcache.validate_timestamps] = 0
""")
        # Debian's php.ini and conf.d (OPcache, PDO, pdo_pgsql on), this pool file.
        s = self.service("php", ["php-fpm8.2", "-y", php + "/fpm.conf", "-F"])
        wait_until(lambda: os.path.exists(self.php_socket) or not s.running(), 10, "php-fpm")
        if not s.running():
            raise RuntimeError("php-fpm did not start:\n" + read(s.log))
        return s

    # -- AI SDK Node server (e) --------------------------------------------------------------
    def start_node(self, extra_env=None):
        self.stop_service("node")
        self.node_port = getattr(self, "node_port", None) or free_port()  # nginx proxies to it
        env = dict(os.environ, PORT=str(self.node_port),
                   OPENAI_BASE_URL=f"http://127.0.0.1:{self.fake_port}/v1", **(extra_env or {}))
        s = self.service("node", ["node", os.path.join(BENCH, "node", "server.mjs")], env)
        wait_until(lambda: "listening on" in read(s.log) or not s.running(), 30, "node server")
        if not s.running():
            raise RuntimeError("node server did not start:\n" + read(s.log))
        return s

    # -- nginx ------------------------------------------------------------------------------
    def site(self, name, socket_path, php=False):
        """nginx/chatd.conf rendered for one FastCGI backend (the harness does the same), on
        its own port: chatd, the floor and PHP-FPM get byte-for-byte the same locations."""
        port = free_port()
        with open(os.path.join(REPO, "nginx", "chatd.conf")) as f:
            text = f.read()
        for old, new in (("127.0.0.1:8080", f"127.0.0.1:{port}"),
                         ("unix:/run/chatd/chatd.sock", "unix:" + socket_path)):
            if text.count(old) != 1:
                raise RuntimeError(f'nginx/chatd.conf must contain "{old}" exactly once')
            text = text.replace(old, new)
        if name != "chatd":  # its upstream, zones, maps and named locations get their own names
            text = re.sub(r"\bchatd_(?=[a-z])", f"{name}_", text)
            text = re.sub(r"(log_format |access_log \S+ )chatd\b", rf"\g<1>{name}", text)
        if php:
            text = text.replace("include fastcgi_params;", "include fastcgi_params; "
                                f"fastcgi_param SCRIPT_FILENAME {self.dir}/php/handler.php;")
        self.servers[name] = text
        self.nginx_ports[name] = port
        return port

    def base_site(self, static=None, proxy_ports=None):
        """The no-application baselines on one port: (a) nginx answering the same bytes itself
        and (d)/(e) nginx proxying a streaming upstream unbuffered. static maps a path to
        bytes: `return 200 '…'` when the bytes fit in one nginx config token, else the same
        bytes from a file (open_file_cache on)."""
        port = self.nginx_ports.get("base") or free_port()
        locations = []
        os.makedirs(self.dir + "/static", exist_ok=True)
        for i, (path, body) in enumerate((static or {}).items()):
            escaped = body.replace("\\", "\\\\").replace("'", "\\'")
            if len(escaped) < 4000:  # nginx: "too long parameter" at 4 KiB
                locations.append(f"location = {path} {{ default_type \"application/json; "
                                 f"charset=utf-8\"; return 200 '{escaped}'; }}")
            else:
                file = f"{self.dir}/static/{i}.json"
                with open(file, "w") as f:
                    f.write(body)
                locations.append(f"location = {path} {{ default_type \"application/json; "
                                 f"charset=utf-8\"; alias {file}; }}")
        for prefix, upstream in (proxy_ports or {}).items():
            locations.append(f"""location {prefix} {{
        proxy_pass http://127.0.0.1:{upstream};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;
        proxy_read_timeout 300s;
        gzip off;
    }}""")
        self.servers["base"] = (f"server {{\n    listen 127.0.0.1:{port};\n    server_tokens off;\n"
                                f"    open_file_cache max=100;\n    " + "\n    ".join(locations)
                                + "\n}\n")
        self.nginx_ports["base"] = port
        return port

    def write_nginx(self):
        d = self.dir + "/nginx"
        os.makedirs(d, exist_ok=True)
        shutil.copy("/etc/nginx/fastcgi_params", d + "/fastcgi_params")
        includes = ""
        for name, text in self.servers.items():
            with open(f"{d}/{name}.conf", "w") as f:
                f.write(text)
            includes += f"  include {d}/{name}.conf;\n"
        temps = "".join(f"  {t}_temp_path {d}/{t};\n"
                        for t in ("client_body", "fastcgi", "proxy", "uwsgi", "scgi"))
        with open(d + "/nginx.conf", "w") as f:
            f.write(f"""user root;
worker_processes {self.nginx_workers};
worker_rlimit_nofile {resource.getrlimit(resource.RLIMIT_NOFILE)[1]};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections {self.worker_connections}; }}
http {{
  include /etc/nginx/mime.types;
  access_log off;
  keepalive_requests 1000000;
{temps}{includes}}}
""")

    def start_nginx(self):
        self.write_nginx()
        d = self.dir + "/nginx"
        s = self.service("nginx", ["nginx", "-c", d + "/nginx.conf", "-g", "daemon off;"])
        wait_until(lambda: all(port_open(p) for p in self.nginx_ports.values())
                   or not s.running(), 10, "nginx")
        if not s.running():
            raise RuntimeError("nginx did not start:\n" + read(s.log) + read(d + "/error.log"))
        return s

    def reload_nginx(self):
        self.write_nginx()
        r = subprocess.run(["nginx", "-t", "-q", "-c", self.dir + "/nginx/nginx.conf"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("nginx config: " + r.stderr)
        os.kill(self.services["nginx"].pid, signal.SIGHUP)
        time.sleep(1.0)
        wait_until(lambda: all(port_open(p) for p in self.nginx_ports.values()), 10, "nginx")

    def url(self, name, path=""):
        return f"http://127.0.0.1:{self.nginx_ports[name]}{path}"

    def get(self, name, path, token=None, timeout=30):
        req = urllib.request.Request(self.url(name, path),
                                     headers={"Coder-Session-Token": token} if token else {})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["up"])
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--floor-bin", help="also serve the real floor (bench/floor_worker, four "
                    "single-threaded processes) on a site of its own")
    a = ap.parse_args()
    with Stack() as s:
        s.start_postgres()
        s.migrate()
        s.seed(stream_chats=100, stream_users=100)
        s.start_fake()
        s.start_chatd(a.workers, a.threads)
        s.site("chatd", s.chatd_socket)
        if a.floor_bin:
            s.site("realfloor", s.start_floor(a.floor_bin, 4, 1, 1, name="realfloor"))
        s.base_site(proxy_ports={"/v1/": s.fake_port})
        s.start_nginx()
        print(json.dumps({"dir": s.dir, "chatd": s.url("chatd"), "fake": s.fake_port,
                          "floor": s.url("realfloor") if a.floor_bin else None,
                          "fake_via_nginx": s.url("base", "/v1/chat/completions"),
                          "database_url": s.database_url, "tokens": TOKENS,
                          "model": FAKE_MODEL}, indent=2), flush=True)
        try:
            time.sleep(a.seconds)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
