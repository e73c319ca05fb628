#!/usr/bin/env python3
"""Long histories: a chat with 10,000 messages (about 7 MB of JSON). GET …/messages through
nginx (time to first byte, total time, and the chatd worker's memory high-water mark above its
idle RSS) next to the floor worker and nginx serving the same bytes from a file; and POST
…/messages (a short scripted reply) to first byte and to first text part, against the same POST
to a chat with 2 messages. Sequential requests, one at a time.

Run it through bench/long_history.sh, which builds what it needs.
"""
import argparse
import json
import os
import re
import socket
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


def timed(port, method, path, headers, body=b"", text_prefix=b"0:"):
    """One HTTP/1.0 request (close-delimited body): (status, ttfb, first text, total, bytes)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = f"{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    t0 = time.monotonic()
    sock.sendall(head.encode() + body)
    first = first_text = None
    data = bytearray()
    while True:
        chunk = sock.recv(1 << 20)
        now = time.monotonic()
        if not chunk:
            break
        if first is None:
            first = now
        data += chunk
        if first_text is None and text_prefix and b"\n" + text_prefix in data:
            first_text = now
    sock.close()
    status = int(data[9:12])
    body_len = len(data) - data.find(b"\r\n\r\n") - 4
    return status, first - t0, (first_text or now) - t0, now - t0, body_len


def worker_memory(s, reset=False):
    """{pid: (VmRSS kB, VmHWM kB)} of chatd's workers; reset: start a new high-water mark."""
    out = {}
    for pid in s.services["chatd"].pids()[1:]:
        if reset:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        status = stack.read(f"/proc/{pid}/status")
        rss = int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1))
        hwm = int(re.search(r"^VmHWM:\s+(\d+)", status, re.M).group(1))
        out[pid] = (rss, hwm)
    return out


def ms(values):
    return (f"{statistics.median(values) * 1000:.1f} [{min(values) * 1000:.1f}–"
            f"{max(values) * 1000:.1f}]")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--floor-bin", required=True)
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    a = ap.parse_args()

    with stack.Stack() as s:
        s.start_postgres()
        s.migrate()
        t = time.monotonic()
        s.seed(short_chats=a.runs, long_messages=a.messages)
        seed_s = time.monotonic() - t
        s.start_fake()
        s.start_chatd(a.workers, 64)
        floor = s.start_floor(a.floor_bin, a.workers, 64)
        s.site("chatd", s.chatd_socket)
        s.site("floor", floor)
        s.base_site()
        s.start_nginx()
        long_chat = s.chat_ids("longuser")[0]
        path = f"/api/v2/chats/{long_chat}/messages"
        auth = {"Coder-Session-Token": stack.TOKENS["longuser"]}
        body = s.get("chatd", path, auth["Coder-Session-Token"], timeout=120)[1]
        s.base_site(static={path: body.decode()})
        s.reload_nginx()
        print(f"# {a.messages} messages, {len(body) / 1e6:.1f} MB of JSON; seeded in "
              f"{seed_s:.1f} s; load average {os.getloadavg()}", flush=True)

        rows = []
        before = worker_memory(s, reset=True)
        for name in ("chatd", "floor", "base"):
            runs = [timed(s.nginx_ports[name], "GET", path, auth, text_prefix=None)
                    for _ in range(a.runs)]
            if any(r[0] != 200 or r[4] != len(body) for r in runs):
                raise SystemExit(f"{name}: unexpected answer {[r[0] for r in runs]}")
            rows.append((name, runs))
        after = worker_memory(s)
        get_peak = max(after[p][1] - before[p][0] for p in after)
        get_after = max(after[p][0] - before[p][0] for p in after)

        label = {"chatd": "chatd", "floor": "(b) floor: libfcgi + 1 SELECT",
                 "base": "(a) nginx, same bytes from a file"}
        print()
        print(f"GET …/messages of a {a.messages}-message chat ({len(body) / 1e6:.1f} MB), "
              f"{a.runs} sequential requests, median [min–max]:")
        print()
        print("| backend | first byte ms | complete ms |")
        print("|---|---|---|")
        for name, runs in rows:
            print(f"| {label[name]} | {ms([r[1] for r in runs])} | {ms([r[3] for r in runs])} |")
        print()
        print(f"chatd worker memory: high-water mark {get_peak / 1024:.1f} MiB above its RSS "
              f"before the GETs; {get_after / 1024:.1f} MiB still held after them.")

        # POST: a short scripted reply, to the long chat and to short chats (2 messages each).
        text = "SCRIPT " + json.dumps({"steps": [{"text": "a b c d e", "token_delay_ms": 10}]})
        post = json.dumps({"model": stack.FAKE_MODEL,
                           "message": {"role": "user", "content": text}}).encode()
        headers = dict(auth, **{"Content-Type": "application/json"})
        short_auth = {"Coder-Session-Token": stack.TOKENS["streamer"],
                      "Content-Type": "application/json"}
        results = {"long": [], "short": []}
        before = worker_memory(s, reset=True)
        for i, chat in enumerate(s.chat_ids("streamer", a.runs)):
            r = timed(s.nginx_ports["chatd"], "POST", path, headers, post)
            results["long"].append(r)
            results["short"].append(timed(s.nginx_ports["chatd"], "POST",
                                          f"/api/v2/chats/{chat}/messages", short_auth, post))
        after = worker_memory(s)
        post_peak = max(after[p][1] - before[p][0] for p in after)
        for kind, runs in results.items():
            if any(r[0] != 200 for r in runs):
                raise SystemExit(f"POST to the {kind} chat: statuses {[r[0] for r in runs]}")
        print()
        print(f"POST …/messages (reply of 5 tokens 10 ms apart), {a.runs} sequential, "
              f"median [min–max]:")
        print()
        print("| chat | first byte ms | first text part ms | complete ms |")
        print("|---|---|---|---|")
        for kind, runs in results.items():
            name = f"{a.messages} messages" if kind == "long" else "2 messages"
            print(f"| {name} | {ms([r[1] for r in runs])} | {ms([r[2] for r in runs])} | "
                  f"{ms([r[3] for r in runs])} |")
        print()
        print(f"chatd worker memory during the POSTs: high-water mark {post_peak / 1024:.1f} MiB "
              f"above its RSS before them.")


if __name__ == "__main__":
    main()
