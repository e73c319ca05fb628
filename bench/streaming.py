#!/usr/bin/env python3
"""Concurrent streamed replies through nginx: chatd (nginx → FastCGI → chatd → fake provider)
against (d) the same fake provider relayed by nginx alone (proxy_buffering off) and, with
--node, (e) the AI SDK's own Node server (streamText + toDataStreamResponse) behind the same
nginx. For each N: errors, time to first byte and to first text part, the gaps between text
parts (p50/p99; "added" = chatd's minus (d)'s), CPU seconds per 1,000 relayed text parts and
RSS per open reply ((peak − idle) ÷ N) of the application's processes.

Run it through bench/streaming.sh, which builds what it needs.

For experiments on PostgreSQL's side: BENCH_PG_OPTIONS (server options, bench/stack.py),
BENCH_SQL (run on chatd's database after it is migrated, e.g. an index to try) and
BENCH_SQL_END (a query whose rows are printed before the stack stops), e.g.
  BENCH_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements"
  BENCH_SQL="CREATE EXTENSION pg_stat_statements"
  BENCH_SQL_END="SELECT calls, total_exec_time, query FROM pg_stat_statements ORDER BY 2 DESC"
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


class Sampler:
    """Peak RSS of a fixed set of processes, sampled every interval while a load runs."""

    def __init__(self, pids, interval=0.25):
        self.pids, self.interval, self.peak = pids, interval, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, stack.rss_kb(self.pids))
            self.stop.wait(self.interval)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def script(tokens, delay_ms, tag):
    words = " ".join(f"w{i}" for i in range(tokens))
    return "SCRIPT " + json.dumps({"id": tag, "steps": [{"text": words,
                                                         "token_delay_ms": delay_ms}]})


def run_load(loader, s, side, n, tokens, delay_ms, ramp_s, workdir, app_pids, chats=None):
    """One load run against one side; returns stream_load's JSON plus CPU/RSS figures. chats:
    where chatd's replies go, one chat each, never used before (a chat runs one reply at a
    time, and its history would grow from run to run)."""
    text = script(tokens, delay_ms, f"{side}-{n}")
    if side in ("chatd", "before"):
        chats = [next(chats) for _ in range(n)]
        paths = [f"/api/v2/chats/{c}/messages\tCoder-Session-Token: {token}" for c, token in chats]
        body = {"model": stack.FAKE_MODEL, "message": {"role": "user", "content": text}}
        port, fmt, headers = s.nginx_ports["chatd"], "datastream", []
    elif side == "d":
        paths = ["/v1/chat/completions"]
        body = {"model": stack.FAKE_MODEL, "stream": True,
                "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": text}]}
        port, fmt = s.nginx_ports["base"], "openai"
        headers = ["--header", "Authorization: Bearer bench"]
    else:  # (e) the AI SDK Node server
        paths = ["/node/api/chat"]
        body = {"messages": [{"role": "user", "content": text}]}
        port, fmt, headers = s.nginx_ports["base"], "datastream", []
    with open(f"{workdir}/paths", "w") as f:
        f.write("\n".join(paths) + "\n")
    with open(f"{workdir}/body", "w") as f:
        json.dump(body, f)
    stream_s = tokens * delay_ms / 1000
    deadline = ramp_s + stream_s + 20
    nginx_pids = s.services["nginx"].pids()
    pg_pids = s.postgres_pids()
    time.sleep(1)
    idle_rss = stack.rss_kb(app_pids)
    cpu0 = {k: stack.cpu_seconds(p) for k, p in
            (("app", app_pids), ("nginx", nginx_pids), ("pg", pg_pids))}
    with Sampler(app_pids) as sampler:
        out = subprocess.run([loader, "--port", str(port), "--paths", f"{workdir}/paths",
                              "--body", f"{workdir}/body", "--format", fmt, "--n", str(n),
                              "--ramp-s", str(ramp_s), "--deadline-s", str(deadline), *headers],
                             capture_output=True, text=True, timeout=deadline + 30)
    if out.returncode != 0:
        raise SystemExit(f"stream_load failed: {out.stderr}")
    res = json.loads(out.stdout)
    cpu1 = {k: stack.cpu_seconds(p) for k, p in
            (("app", app_pids), ("nginx", nginx_pids), ("pg", pg_pids))}
    parts_k = max(res["parts"], 1) / 1000
    res.update({
        "cpu_per_1k": {k: (cpu1[k] - cpu0[k]) / parts_k for k in cpu0},
        "idle_rss_kb": idle_rss, "peak_rss_kb": sampler.peak,
        "rss_per_reply_kb": (sampler.peak - idle_rss) / n if app_pids else 0,
    })
    return res


def med(runs, *path):
    values = []
    for r in runs:
        v = r
        for k in path:
            v = v[k]
        values.append(v)
    return statistics.median(values), min(values), max(values)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loader", help="the stream_load binary")
    ap.add_argument("--levels", default="100:20,500:20,1000:20,2000:20,5000:5,1000:2",
                    help="N:parts-per-second, ... (1000:2 compares memory per open reply with "
                         "(e) at a rate Node keeps up with)")
    ap.add_argument("--stream-s", type=float, default=15, help="length of each reply")
    ap.add_argument("--ramp-s", type=float, default=0,
                    help="spread the N requests over this long (default N/500 s, at least 1)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--db-pool", type=int, default=8)
    ap.add_argument("--node", action="store_true", help="also run peer (e), the AI SDK server")
    ap.add_argument("--before", metavar="CHATD",
                    help="also run this chatd binary (an earlier build: streaming.sh "
                         "--before-rev builds one), with a request thread per reply")
    ap.add_argument("--threads", type=int, default=4, help="chatd's --threads")
    ap.add_argument("--before-threads", type=int,
                    help="--threads of the --before build (default: a thread per reply, "
                         "for a build of the thread model)")
    ap.add_argument("--sides", default="chatd,d", help="which of chatd, d, e to run "
                    "((d) always runs: the other two are compared with it)")
    ap.add_argument("--node-max-rate", type=int, default=2500,
                    help="run (e) only where N × parts/s is at most this: past it Node's CPU "
                         "per part saturates the machine and its figures mean nothing")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--report", metavar="JSON", help="only print the tables of an earlier --json")
    a = ap.parse_args()
    if a.report:
        with open(a.report) as f:
            saved = json.load(f)
        results = {(int(k.split("|")[0]), int(k.split("|")[1]), k.split("|")[2]): v
                   for k, v in saved["results"].items()}
        return report(argparse.Namespace(**saved["args"]), [tuple(lv) for lv in saved["levels"]],
                      saved["sides"], results)
    levels = [tuple(map(int, lv.split(":"))) for lv in a.levels.split(",")]
    max_n = max(n for n, _ in levels)
    wanted = (set(a.sides.split(",")) | {"d"} | ({"e"} if a.node else set()) |
              ({"before"} if a.before else set()))
    sides = [side for side in ("before", "chatd", "d", "e") if side in wanted]
    a.node = "e" in sides

    results = {}
    with stack.Stack() as s:
        s.worker_connections = max(4096, 3 * max_n)
        s.start_postgres(max_connections=max(200, 2 * a.workers * a.db_pool + 50))
        # Each build of chatd on a database of its own, migrated by it: the schema may differ.
        chats, urls = {}, {}
        for side in [side for side in ("before", "chatd") if side in sides] or ["chatd"]:
            s.use_database("chatd_before" if side == "before" else "chatd")
            s.migrate(binary=a.before if side == "before" else None)
            if side == "chatd" and os.environ.get("BENCH_SQL"):
                s.psql(os.environ["BENCH_SQL"])
            s.seed(stream_chats=sum(n + 10 for n, _ in levels) * a.runs, stream_users=max_n + 10)
            chats[side], urls[side] = iter(s.stream_chats()), s.database_url
        s.start_fake()
        proxies = {"/v1/": s.fake_port}
        if a.node:
            s.start_node()
            proxies["/node/"] = s.node_port
        s.base_site(proxy_ports=proxies)
        if "chatd" in sides or "before" in sides:
            # (chatd serve migrates its database too: each build starts on its own.)
            first = "chatd" if "chatd" in urls else "before"
            s.start_chatd(a.workers, a.threads, a.db_pool, database_url=urls[first],
                          binary=a.before if first == "before" else None)
            s.site("chatd", s.chatd_socket)
        s.start_nginx()
        print(f"# load average at start: {os.getloadavg()}", flush=True)
        for n, rate in levels:
            delay_ms = 1000 // rate
            tokens = int(a.stream_s * rate)
            ramp = a.ramp_s or max(1.0, n / 500)
            # The thread model needs a thread per reply (and some for other requests).
            threads_before = a.before_threads or max(64, math.ceil(n / a.workers) + 32)
            for run in range(a.runs):
                for side in sides:
                    if side == "e" and n * rate > a.node_max_rate:
                        continue
                    # A fresh application each run: glibc and V8 keep the memory of the last
                    # run, so "peak − idle" is only the memory of a reply on a fresh process.
                    if side == "chatd":
                        s.start_chatd(a.workers, a.threads, a.db_pool, database_url=urls[side])
                        app = s.services["chatd"].pids()
                    elif side == "before":
                        s.start_chatd(a.workers, threads_before, a.db_pool, binary=a.before,
                                      database_url=urls[side])
                        app = s.services["chatd"].pids()
                    elif side == "e":
                        s.start_node()
                        app = s.services["node"].pids()
                    else:
                        app = []
                    # Warm-up (JIT, database connections, caches): 10 replies of 2 s, unrecorded.
                    run_load(a.loader, s, side, 10, 40, 50, 1, s.dir, app, chats.get(side))
                    res = run_load(a.loader, s, side, n, tokens, delay_ms, ramp, s.dir, app,
                                   chats.get(side))
                    if side in ("chatd", "before"):
                        res["threads"] = threads_before if side == "before" else a.threads
                    results.setdefault((n, rate, side), []).append(res)
                    print(f"# N={n} {rate}/s run {run + 1} {side}: errors {res['errors']} "
                          f"{res['ends']} {res['statuses']} {res.get('errnos', {})} ttfb p50 {res['ttfb_ms']['p50']:.1f} "
                          f"p99 {res['ttfb_ms']['p99']:.1f} ms, gap p50 {res['gap_ms']['p50']:.2f} "
                          f"p99 {res['gap_ms']['p99']:.2f} max {res['gap_ms']['max']:.1f} ms, "
                          f"parts {res['parts']}, cpu/1k parts app "
                          f"{res['cpu_per_1k']['app']:.3f} s nginx "
                          f"{res['cpu_per_1k']['nginx']:.3f} s pg {res['cpu_per_1k']['pg']:.3f} s,"
                          f" rss idle {res['idle_rss_kb'] / 1024:.0f} MiB peak "
                          f"{res['peak_rss_kb'] / 1024:.0f} MiB "
                          f"({res['rss_per_reply_kb']:.0f} KiB/reply)", flush=True)
        print(f"# load average at end: {os.getloadavg()}", flush=True)
        if os.environ.get("BENCH_SQL_END"):
            print(s.psql(os.environ["BENCH_SQL_END"]), flush=True)

    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": vars(a), "levels": levels, "sides": sides,
                       "results": {f"{n}|{rate}|{side}": v
                                   for (n, rate, side), v in results.items()}}, f, indent=1)
    report(a, levels, sides, results)


def report(a, levels, sides, results):
    print()
    print(f"{a.runs} run(s) per cell; median [min–max]. Replies of {a.stream_s:.0f} s; requests "
          f"spread over max(1 s, N/500 s); chatd --workers {a.workers} --threads "
          f"{getattr(a, 'threads', 16)} --db-pool-size {a.db_pool} (replies on the reply loop)"
          + (f"; 'chatd before' is {a.before} with "
             + (f"--threads {a.before_threads}" if getattr(a, "before_threads", None)
                else "a thread per reply (--threads ⌈N/workers⌉+32)")
             if getattr(a, "before", None) else "") + ". Gaps are between consecutive text parts of one reply as "
          f"the client reads them; 'added' is chatd's (or (e)'s) percentile minus (d)'s.")
    print()
    print("| N | parts/s | path | errors | TTFB p50 / p99 ms | first text p50 / p99 ms "
          "| gap p50 / p99 ms | added p50 / p99 ms | app CPU s / 1k parts | nginx / PostgreSQL "
          "CPU s / 1k | RSS / open reply | RSS idle → peak MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    name = {"before": "chatd before (thread per reply)", "chatd": "chatd (reply loop)",
            "d": "(d) nginx → fake", "e": "(e) nginx → AI SDK Node"}
    for n, rate in levels:
        base = results[(n, rate, "d")]
        for side in sides:
            if (n, rate, side) not in results:
                continue
            runs = results[(n, rate, side)]
            errors = sum(r["errors"] for r in runs)
            ttfb50, ttfb99 = med(runs, "ttfb_ms", "p50")[0], med(runs, "ttfb_ms", "p99")[0]
            ft50, ft99 = med(runs, "first_text_ms", "p50")[0], med(runs, "first_text_ms", "p99")[0]
            g50, g99 = med(runs, "gap_ms", "p50"), med(runs, "gap_ms", "p99")
            added = ""
            if side != "d":
                a50 = [r["gap_ms"]["p50"] - b["gap_ms"]["p50"] for r, b in zip(runs, base)]
                a99 = [r["gap_ms"]["p99"] - b["gap_ms"]["p99"] for r, b in zip(runs, base)]
                added = (f"{statistics.median(a50):+.2f} / {statistics.median(a99):+.2f} "
                         f"[{min(a99):+.2f}–{max(a99):+.2f}]")
            cpu = med(runs, "cpu_per_1k", "app")
            ngx = med(runs, "cpu_per_1k", "nginx")
            rss = med(runs, "rss_per_reply_kb")
            app_cpu = "—" if side == "d" else f"{cpu[0]:.3f} [{cpu[1]:.3f}–{cpu[2]:.3f}]"
            app_rss = "—" if side == "d" else f"{rss[0]:.0f} KiB [{rss[1]:.0f}–{rss[2]:.0f}]"
            print(f"| {n} | {rate} | {name[side]} | {errors} | {ttfb50:.1f} / {ttfb99:.1f} | "
                  f"{ft50:.1f} / {ft99:.1f} | {g50[0]:.2f} / {g99[0]:.2f} | {added} | {app_cpu} | "
                  f"{ngx[0]:.3f} / {med(runs, 'cpu_per_1k', 'pg')[0]:.3f} | {app_rss} | " + ("—" if side == "d" else
                  f"{med(runs, 'idle_rss_kb')[0] / 1024:.0f} → "
                  f"{med(runs, 'peak_rss_kb')[0] / 1024:.0f}") + " |")
    if "chatd" in sides:
        print()
        node_levels = [lv for lv in levels if (*lv, "e") in results]
        for n, rate in levels:
            runs, base = results[(n, rate, "chatd")], results[(n, rate, "d")]
            errors = sum(r["errors"] for r in runs)
            added = statistics.median(r["gap_ms"]["p99"] - b["gap_ms"]["p99"]
                                      for r, b in zip(runs, base))
            line = (f"- N={n} at {rate} parts/s: {errors} errors (target 0) "
                    f"{'MET' if errors == 0 else 'NOT MET'}; p99 gap {added:+.2f} ms over (d) "
                    f"(target ≤ 5 ms) {'MET' if added <= 5 else 'NOT MET'}")
            if node_levels:
                # (e) ran only where it keeps up. CPU per part depends on the rate (a reply's
                # fixed costs spread over its parts): compare with (e) at the same level, else
                # at the nearest rate. Memory per open reply: the same level, else the most
                # replies (e) held.
                same = (n, rate) in node_levels
                cpu_ref = (n, rate) if same else max(
                    node_levels, key=lambda lv: (-abs(lv[1] - rate), lv[0]))
                rss_ref = (n, rate) if same else max(node_levels)
                cpu = (med(runs, "cpu_per_1k", "app")[0] /
                       med(results[(*cpu_ref, "e")], "cpu_per_1k", "app")[0])
                rss = (med(runs, "rss_per_reply_kb")[0] /
                       max(med(results[(*rss_ref, "e")], "rss_per_reply_kb")[0], 1))
                line += (f"; CPU per part {cpu:.2f}× (e)'s at {cpu_ref[0]}:{cpu_ref[1]} (target "
                         f"≤ 0.10) {'MET' if cpu <= 0.1 else 'NOT MET'}; RSS per open reply "
                         f"{rss:.2f}× (e)'s at {rss_ref[0]}:{rss_ref[1]} (target ≤ 0.25) "
                         f"{'MET' if rss <= 0.25 else 'NOT MET'}")
            print(line)


if __name__ == "__main__":
    main()
