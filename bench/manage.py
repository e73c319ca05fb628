#!/usr/bin/env python3
"""Chat management at scale (issue 17): a user with 10,000 chats (two messages each) and a chat
of 10,000 messages. wrk -t1 -c16 through nginx on GET /api/v2/chats?limit=50, the same with a
full-text `q` (a word in one chat, and a word in every chat), and GET …/messages?limit=50 (the
newest page, and a page in the middle); then N watchers (GET /api/v2/chats/watch, one user
each) held open: chatd's RSS growth and PostgreSQL's connections before and with them, and one
change heard by its watcher.

Targets: the lists and the search p99 ≤ 20 ms, the message pages p99 ≤ 10 ms at -c16; 1,000
watchers ≤ 20 MB and no database connection each.

Run it through bench/manage.sh, which builds what it needs.
"""
import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402
from idle_readers import Reader, attach, all_attached  # noqa: E402
from nonstreaming import wrk  # noqa: E402


def two_messages_each(owner):
    """A user message and an answer in every chat of `owner`; "zanzibar" in one chat only."""
    return f"""
INSERT INTO chat_messages (chat_id, created_at, model, provider, content)
SELECT c.id, c.created_at + (r - 1) * interval '1 second', '{stack.FAKE_MODEL}', 'openai',
       jsonb_build_object('id', 'msg-' || substr(md5(c.id::text || r), 1, 24), 'role', role,
                          'content', text, 'parts',
                          jsonb_build_array(jsonb_build_object('type', 'text', 'text', text)))
  FROM (SELECT c.*, row_number() OVER (ORDER BY c.created_at) AS n
          FROM chats c JOIN users u ON u.id = c.owner_id AND u.username = '{owner}') c,
       LATERAL (VALUES (1, 'user', 'A question about topic ' || c.n ||
                                   CASE WHEN c.n = 777 THEN ' and zanzibar' ELSE '' END),
                       (2, 'assistant', 'An answer about topic ' || c.n || ': '
                                        || repeat(md5(c.n::text) || ' ', 12))) AS t(r, role, text);
ANALYZE;"""


def connections(s):
    return int(s.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'chatd'"))


async def watchers(a, s, users):
    """Opens one watcher per (chat, token); returns RSS, connections and one event's delay."""
    port = s.nginx_ports["chatd"]
    app = s.services["chatd"].pids()
    await asyncio.sleep(1)
    rss_before, conns_before = stack.rss_kb(app), connections(s)
    readers = [Reader() for _ in users]
    tasks = await attach(readers, port, [("GET", "/api/v2/chats/watch", t) for _, t in users],
                         100)
    await asyncio.wait_for(all_attached(readers), 120)
    await asyncio.sleep(2)
    rss_with, conns_with = stack.rss_kb(app), connections(s)
    statuses = {}
    for r in readers:
        key = str(r.status if r.error is None else r.error.split(":")[0])
        statuses[key] = statuses.get(key, 0) + 1
    # One change, made through the API, heard by its owner's watcher: the Reader notes the
    # blank line that ends an event.
    chat, token = users[len(users) // 2]
    heard_before = len(readers[len(users) // 2].keepalives)
    request = urllib.request.Request(
        s.url("chatd", f"/api/v2/chats/{chat}"), method="PATCH",
        data=json.dumps({"title": "Renamed"}).encode(),
        headers={"Coder-Session-Token": token})
    t0 = time.monotonic()
    urllib.request.urlopen(request).read()
    delay = None
    while time.monotonic() - t0 < 5:
        if len(readers[len(users) // 2].keepalives) > heard_before:
            delay = readers[len(users) // 2].keepalives[heard_before] - t0
            break
        await asyncio.sleep(0.005)
    for t in tasks:
        t.cancel()
    return {"watchers": len(users), "statuses": statuses,
            "rss_growth_mb": round((rss_with - rss_before) / 1024, 1),
            "rss_per_watcher_kb": round((rss_with - rss_before) / len(users), 1),
            "connections_before": conns_before, "connections_with": conns_with,
            "event_ms": None if delay is None else round(delay * 1000, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chats", type=int, default=10000)
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--watchers", type=int, default=1000)
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    a = ap.parse_args()
    with stack.Stack() as s:
        s.worker_connections = 3 * a.watchers + 1024
        s.start_postgres()
        s.migrate()
        t = time.monotonic()
        s.seed(list_chats=a.chats, list_messages=0, long_messages=a.messages,
               stream_chats=a.watchers, stream_users=a.watchers)
        s.psql(two_messages_each("lister"))
        seeded = time.monotonic() - t
        s.start_fake()
        s.start_chatd(a.workers, 4, 8)
        s.site("chatd", s.chatd_socket)
        s.start_nginx()
        long_chat = s.chat_ids("longuser")[0]
        middle = s.psql(f"SELECT message_id FROM chat_messages WHERE chat_id = '{long_chat}' "
                        f"ORDER BY created_at, id OFFSET {a.messages // 2} LIMIT 1")
        cells = [
            ("GET /api/v2/chats?limit=50", "/api/v2/chats?limit=50", 20),
            ("… &q=zanzibar (one chat)", "/api/v2/chats?limit=50&q=zanzibar", 20),
            ("… &q=question (every chat)", "/api/v2/chats?limit=50&q=question", 20),
            ("… &q=title:%22chat 5%22", "/api/v2/chats?limit=50&q=title:%22chat%205%22", 20),
            ("GET …/messages?limit=50 (newest)",
             f"/api/v2/chats/{long_chat}/messages?limit=50", 10),
            ("… &before_id=<the middle>",
             f"/api/v2/chats/{long_chat}/messages?limit=50&before_id={middle}", 10),
        ]
        token = {"lister": stack.TOKENS["lister"], "longuser": stack.TOKENS["longuser"]}
        for _, path, _ in cells:  # each answers 200 with a non-empty page
            owner = "longuser" if "messages" in path else "lister"
            status, body = s.get("chatd", path, token[owner])
            if status != 200 or body in (b"[]", b""):
                raise SystemExit(f"{path}: {status} {body[:200]}")
        load = os.getloadavg()
        print(f"# {a.chats} chats of 2 messages, a chat of {a.messages} messages, "
              f"{a.watchers} watcher users; seeded in {seeded:.0f} s; chatd --workers "
              f"{a.workers} --threads 4 --db-pool-size 8; load average at start {load}",
              flush=True)
        results = {name: [] for name, _, _ in cells}
        for _ in range(a.runs):
            for name, path, _ in cells:
                owner = "longuser" if "messages" in path else "lister"
                results[name].append(wrk(s.url("chatd", path), token[owner], 1, 16, a.duration))
        watched = asyncio.run(watchers(a, s, s.stream_chats()[:a.watchers]))
        load_end = os.getloadavg()
    print(f"# load average at end {load_end}")
    print()
    print(f"wrk -t1 -c16, {a.duration} s, {a.runs} runs: median [min–max]")
    print()
    print("| request | req/s | p50 ms | p99 ms | errors | target p99 |")
    print("|---|---|---|---|---|---|")
    for name, _, target in cells:
        runs = results[name]
        p99 = [r["p99"] * 1000 for r in runs]
        med = statistics.median(p99)
        print(f"| {name} | {statistics.median(r['rps'] for r in runs):.0f} | "
              f"{statistics.median(r['p50'] for r in runs) * 1000:.2f} | {med:.2f} "
              f"[{min(p99):.2f}–{max(p99):.2f}] | {sum(r['errors'] for r in runs)} | "
              f"≤ {target} ms {'MET' if med <= target else 'NOT MET'} |")
    print()
    w = watched
    print(f"{w['watchers']} watchers: statuses {w['statuses']}; chatd RSS +{w['rss_growth_mb']} MB "
          f"({w['rss_per_watcher_kb']} KiB each; target ≤ 20 MB "
          f"{'MET' if w['rss_growth_mb'] <= 20 else 'NOT MET'}); PostgreSQL connections "
          f"{w['connections_before']} -> {w['connections_with']} (target: none per watcher "
          f"{'MET' if w['connections_with'] - w['connections_before'] < 5 else 'NOT MET'}); "
          f"a rename heard by its watcher after {w['event_ms']} ms")
    print(json.dumps({"cells": results, "watchers": watched}))


if __name__ == "__main__":
    main()
