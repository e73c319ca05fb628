#!/usr/bin/env python3
"""Non-streaming routes through nginx with wrk: chatd against (a) nginx answering the same bytes
itself, (b) bench/floor_worker.cpp (libfcgi + one prepared SELECT that checks the token and
reads the rows) in chatd's own process model (the same workers × threads × connections), (f) the
same worker in the stack's cheapest shape (single-threaded pre-forked processes, one connection
each: "the real floor", so that chatd ÷ (f) is what chatd's design costs), (c) PHP-FPM
(bench/php/handler.php: the same token check and queries, persistent PDO, static pool). All sit
behind the same nginx; (b), (f), (c) and chatd behind the very same locations (nginx/chatd.conf
rendered once per backend). Runs are interleaved, so every run of chatd has a
run of each baseline next to it; ratios are taken run by run and reported as median [min–max].

Run it through bench/nonstreaming.sh, which builds what it needs.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

BACKENDS = ["a", "b", "f", "c", "before", "chatd"]
LABEL = {"a": "(a) nginx alone, same bytes", "b": "(b) floor worker, chatd's process model",
         "f": "(f) real floor: 1-thread processes", "c": "(c) PHP-FPM + pdo_pgsql",
         "before": "chatd before", "chatd": "chatd"}
SITE = {"a": "base", "b": "floor", "f": "realfloor", "c": "php", "before": "before",
        "chatd": "chatd"}
APP = {"a": None, "b": "floor", "f": "realfloor", "c": "php", "before": "before",
       "chatd": "chatd"}


def cpu_by_pid(pids):
    return {p: stack.cpu_seconds([p]) for p in pids}


def seconds(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]


def wrk(url, token, threads, connections, duration):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
           "-H", f"Coder-Session-Token: {token}", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"rps": rps, "p50": seconds(lat["50"]), "p99": seconds(lat["99"]), "errors": errors}


def fmt_ms(s):
    return f"{s * 1000:.2f}"


def summary(values):
    return statistics.median(values), min(values), max(values)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--floor-bin", required=True)
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--configs", default="1x16,2x64", help="wrk threads x connections, ...")
    ap.add_argument("--routes", default="chats,messages")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--threads", type=int, default=4, help="chatd's --threads (its default)")
    ap.add_argument("--db-pool", type=int, default=8, help="chatd's --db-pool-size (its default)")
    ap.add_argument("--floor-processes", type=int, default=4,
                    help="(f)'s single-threaded processes")
    ap.add_argument("--php-children", type=int, default=4,
                    help="PHP-FPM pm=static children: 4 served more than 64 here")
    ap.add_argument("--no-php", action="store_true")
    ap.add_argument("--before", metavar="CHATD", help="also run this chatd binary (an earlier "
                    "build: nonstreaming.sh --before-rev builds one)")
    ap.add_argument("--before-threads", type=int, default=16,
                    help="its --threads (16: the default before issue 16)")
    ap.add_argument("--before-db-pool", type=int, default=16)
    ap.add_argument("--json", help="also write the raw results here")
    a = ap.parse_args()
    backends = [b for b in BACKENDS
                if not (b == "c" and a.no_php) and not (b == "before" and not a.before)]
    configs = [tuple(map(int, c.split("x"))) for c in a.configs.split(",")]

    with stack.Stack() as s:
        s.start_postgres()
        s.migrate()
        s.seed(list_chats=20, list_messages=200)
        s.start_fake()
        s.start_chatd(a.workers, a.threads, a.db_pool)
        s.site("chatd", s.chatd_socket)
        if a.before:
            s.start_chatd(a.workers, a.before_threads, a.before_db_pool, binary=a.before,
                          name="before")
            s.site("before", f"{s.dir}/before.sock")
        s.site("floor", s.start_floor(a.floor_bin, a.workers, a.threads, a.db_pool))
        s.site("realfloor", s.start_floor(a.floor_bin, a.floor_processes, 1, 1, name="realfloor"))
        if "c" in backends:
            s.start_php(a.php_children)
            s.site("php", s.php_socket, php=True)
        s.base_site()
        s.start_nginx()

        token = stack.TOKENS["lister"]
        chat = s.chat_ids("lister", 1)[0]
        paths = {"chats": "/api/v2/chats", "messages": f"/api/v2/chats/{chat}/messages"}
        routes = a.routes.split(",")
        # (a) answers exactly what chatd answers; the others must too, or the run is void.
        bodies = {r: s.get("chatd", paths[r], token)[1] for r in routes}
        s.base_site(static={paths[r]: bodies[r].decode() for r in routes})
        s.reload_nginx()
        for r in routes:
            for b in backends:
                status, body = s.get(SITE[b], paths[r], token)
                if status != 200 or body != bodies[r]:
                    raise SystemExit(f"{LABEL[b]} answers {paths[r]} differently from chatd")
        print(f"# load average {os.getloadavg()}", flush=True)
        print(f"# identical bytes from every backend: GET /api/v2/chats {len(bodies.get('chats', b''))} B"
              f", GET …/messages {len(bodies.get('messages', b''))} B", flush=True)

        results = {}
        for r in routes:
            for t, c in configs:
                for b in backends:  # warm-up: caches, PHP children, prepared statements
                    wrk(s.url(SITE[b], paths[r]), token, t, c, 1)
                for run in range(a.runs):
                    for b in backends:
                        groups = {"app": lambda b=b: s.services[APP[b]].pids() if APP[b] else [],
                                  "pg": s.postgres_pids,
                                  "nginx": lambda: s.services["nginx"].pids()}
                        before = {k: cpu_by_pid(f()) for k, f in groups.items()}
                        res = wrk(s.url(SITE[b], paths[r]), token, t, c, a.duration)
                        after = {k: cpu_by_pid(f()) for k, f in groups.items()}
                        requests = res["rps"] * a.duration
                        for k in groups:  # CPU µs per request, processes new in the run included
                            used = sum(v - before[k].get(p, 0) for p, v in after[k].items())
                            res[f"{k}_us"] = used / requests * 1e6
                        results.setdefault((r, t, c, b), []).append(res)
                        print(f"# {r} -t{t} -c{c} run {run + 1} {LABEL[b]}: {res['rps']:.0f} req/s"
                              f" p50 {fmt_ms(res['p50'])} ms p99 {fmt_ms(res['p99'])} ms"
                              f" errors {res['errors']} CPU µs/request app {res['app_us']:.0f}"
                              f" pg {res['pg_us']:.0f} nginx {res['nginx_us']:.0f}", flush=True)

    print()
    print(f"{a.runs} runs of {a.duration} s each, interleaved; median [min–max]. chatd "
          f"--workers {a.workers} --threads {a.threads} --db-pool-size {a.db_pool}; (b) the "
          f"same; (f) {a.floor_processes} processes × 1 thread × 1 connection; PHP-FPM "
          f"pm=static max_children={a.php_children}; nginx worker_processes auto."
          + (f" chatd before: {a.before} --threads {a.before_threads} --db-pool-size "
             f"{a.before_db_pool}." if a.before else ""))
    print()
    print("| route | wrk | backend | req/s | p50 ms | p99 ms | errors | chatd ÷ this (req/s) "
          "| CPU µs/request: app / PostgreSQL / nginx |")
    print("|---|---|---|---|---|---|---|---|---|")
    verdicts = []
    for r in routes:
        for t, c in configs:
            mine = results[(r, t, c, "chatd")]
            for b in backends:
                runs = results[(r, t, c, b)]
                rps, p50, p99 = (summary([x[k] for x in runs]) for k in ("rps", "p50", "p99"))
                errors = sum(x["errors"] for x in runs)
                ratio = ""
                if b != "chatd":
                    q = summary([m["rps"] / x["rps"] for m, x in zip(mine, runs)])
                    ratio = f"{q[0]:.2f} [{q[1]:.2f}–{q[2]:.2f}]"
                print(f"| {r} | -t{t} -c{c} | {LABEL[b]} | {rps[0]:.0f} [{rps[1]:.0f}–{rps[2]:.0f}]"
                      f" | {fmt_ms(p50[0])} | {fmt_ms(p99[0])} [{fmt_ms(p99[1])}–{fmt_ms(p99[2])}]"
                      f" | {errors} | {ratio} | "
                      + " / ".join(f"{statistics.median(x[k + '_us'] for x in runs):.0f}"
                                   for k in ("app", "pg", "nginx")) + " |")
            chatd_p99 = statistics.median(x["p99"] for x in mine)
            ratio_f = statistics.median(m["rps"] / x["rps"]
                                        for m, x in zip(mine, results[(r, t, c, "f")]))
            verdicts.append(f"{r} -t{t} -c{c}: chatd = {ratio_f:.0%} of the real floor (f) (target"
                            f" ≥ 80%) {'MET' if ratio_f >= 0.8 else 'NOT MET'}")
            if "c" in backends:
                php = results[(r, t, c, "c")]
                ratio_c = statistics.median(m["rps"] / x["rps"] for m, x in zip(mine, php))
                php_p99 = statistics.median(x["p99"] for x in php)
                ok = ratio_c >= 5 and chatd_p99 <= php_p99
                verdicts.append(f"{r} -t{t} -c{c}: chatd = {ratio_c:.1f}× PHP-FPM, p99 "
                                f"{fmt_ms(chatd_p99)} vs {fmt_ms(php_p99)} ms (target ≥ 5× at no "
                                f"worse p99) {'MET' if ok else 'NOT MET'}")
    print()
    for v in verdicts:
        print("- " + v)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"|".join(map(str, k)): v for k, v in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
