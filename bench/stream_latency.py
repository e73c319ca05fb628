#!/usr/bin/env python3
"""Time to first text part and the gaps between text parts of a streamed reply, through nginx
and chatd, against the same model asked directly (the fake provider, which paces its tokens).

    bench/stream_latency.py --chatd http://127.0.0.1:8080 --token TOKEN --model mock-echo \
        --upstream http://127.0.0.1:11435/v1 [--runs 20] [--tokens 40] [--delay-ms 50]

Both sides get the same script (tokens every --delay-ms); the difference between the two
distributions is what nginx + chatd add. Loopback only; bounded by --runs.
"""
import argparse
import json
import socket
import statistics
import time
import urllib.parse


def stream_lines(url, headers, body):
    """POSTs with HTTP/1.0 (a close-delimited body, no chunk framing) and yields
    (arrival time, line) for every line of the response body as it arrives."""
    u = urllib.parse.urlsplit(url)
    sock = socket.create_connection((u.hostname, u.port or 80))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = f"POST {u.path} HTTP/1.0\r\nHost: {u.hostname}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    start = time.monotonic()
    sock.sendall(head.encode() + body)
    buf, in_body = b"", False
    while True:
        data = sock.recv(65536)
        now = time.monotonic()
        if not data:
            break
        buf += data
        if not in_body:
            if b"\r\n\r\n" not in buf:
                continue
            status = buf.split(b"\r\n", 1)[0]
            if b" 200 " not in status:
                raise SystemExit(f"{url}: {status.decode()}")
            buf = buf.split(b"\r\n\r\n", 1)[1]
            in_body = True
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield now - start, line.decode("utf-8", "replace")
    sock.close()


def script(tokens, delay_ms):
    text = " ".join(f"w{i}" for i in range(tokens))
    return "SCRIPT " + json.dumps({"steps": [{"text": text, "token_delay_ms": delay_ms}]})


def measure(lines, is_text):
    times = [t for t, line in lines if is_text(line)]
    return times[0], [b - a for a, b in zip(times, times[1:])]


def chatd_run(args):
    base, auth = args.chatd, {"Coder-Session-Token": args.token}
    import urllib.request
    req = urllib.request.Request(base + "/api/v2/chats", method="POST", headers=auth, data=b"")
    chat = json.load(urllib.request.urlopen(req))["id"]
    body = json.dumps({"model": args.model,
                       "message": {"role": "user", "content": script(args.tokens, args.delay_ms)}})
    lines = list(stream_lines(f"{base}/api/v2/chats/{chat}/messages",
                              {**auth, "Content-Type": "application/json"}, body.encode()))
    return measure(lines, lambda l: l.startswith("0:"))


def upstream_run(args):
    body = json.dumps({"model": args.model, "stream": True,
                       "messages": [{"role": "user", "content": script(args.tokens, args.delay_ms)}]})
    lines = list(stream_lines(args.upstream + "/chat/completions",
                              {"Authorization": "Bearer bench", "Content-Type": "application/json"},
                              body.encode()))
    return measure(lines, lambda l: l.startswith("data: ") and '"content":"' in l
                   and '"content":""' not in l)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chatd", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--tokens", type=int, default=40)
    parser.add_argument("--delay-ms", type=int, default=50)
    args = parser.parse_args()
    results = {}
    for name, run in (("upstream (fake provider, direct)", upstream_run),
                      ("nginx + chatd", chatd_run)):
        firsts, gaps = [], []
        for _ in range(args.runs):
            first, g = run(args)
            firsts.append(first * 1000)
            gaps.extend(x * 1000 for x in g)
        results[name] = (firsts, gaps)
        print(f"{name:34s} first text: median {statistics.median(firsts):7.2f} ms  "
              f"p99 {pct(firsts, 99):7.2f} ms | inter-part gap: median "
              f"{statistics.median(gaps):6.2f} ms  p99 {pct(gaps, 99):6.2f} ms  (n={len(gaps)})")
    (f0, g0), (f1, g1) = results.values()
    print(f"added by nginx + chatd: first text +{statistics.median(f1) - statistics.median(f0):.2f} ms "
          f"(median), gap p99 +{pct(g1, 99) - pct(g0, 99):.2f} ms")


if __name__ == "__main__":
    main()
