#!/usr/bin/env python3
"""Holds N concurrent slow streams against a running fake_provider and reports completion,
per-token lateness (client-observed) and the server's CPU time and RSS.

  loadtest.py --port P --pid SERVER_PID [--streams 3000] [--tokens 100] [--delay-ms 100]
              [--provider openai|anthropic|google] [--ramp-s 1]
"""
import argparse
import json
import selectors
import socket
import time


def proc_cpu_rss(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return ticks / 100.0, rss  # seconds (USER_HZ 100), kB


def request(provider, tokens, delay):
    words = " ".join(f"w{i}" for i in range(tokens))
    script = "SCRIPT " + json.dumps({"steps": [{"text": words, "token_delay_ms": delay}]})
    if provider == "openai":
        body = {"model": "fake-model", "stream": True, "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": script}]}
        path, hdr = "/v1/chat/completions", "Authorization: Bearer k\r\n"
    elif provider == "anthropic":
        body = {"model": "fake-model", "max_tokens": 4096, "stream": True,
                "messages": [{"role": "user", "content": script}]}
        path, hdr = "/v1/messages", "x-api-key: k\r\nanthropic-version: 2023-06-01\r\n"
    else:
        body = {"contents": [{"role": "user", "parts": [{"text": script}]}]}
        path = "/v1beta/models/fake-model:streamGenerateContent?alt=sse"
        hdr = "x-goog-api-key: k\r\n"
    b = json.dumps(body).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{hdr}Content-Type: application/json\r\n"
            f"Content-Length: {len(b)}\r\n\r\n").encode() + b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--streams", type=int, default=3000)
    ap.add_argument("--tokens", type=int, default=100)
    ap.add_argument("--delay-ms", type=int, default=100)
    ap.add_argument("--provider", default="openai")
    ap.add_argument("--ramp-s", type=float, default=1.0)
    a = ap.parse_args()

    req = request(a.provider, a.tokens, a.delay_ms)
    # Token events per stream: OpenAI/Gemini one `data:` per token, Anthropic one
    # content_block_delta per token. Count those markers.
    marker = {"openai": b'"delta":{"content"', "anthropic": b'"text_delta"',
              "google": b'{"text":"'}[a.provider]
    sel = selectors.DefaultSelector()
    state = {}
    cpu0, _ = proc_cpu_rss(a.pid)
    t_begin = time.monotonic()
    opened = 0
    done = errors = 0
    lateness = []
    peak_rss = 0
    last_sample = t_begin
    cpu_mid0 = None
    cpu_mid = None
    while done + errors < a.streams:
        now = time.monotonic()
        # Ramp up: open connections spread over ramp_s.
        want = min(a.streams, int(a.streams * (now - t_begin) / a.ramp_s) + 1) if a.ramp_s > 0 else a.streams
        while opened < want:
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", a.port))
            sel.register(s, selectors.EVENT_WRITE)
            state[s] = {"sent": False, "t0": None, "tokens": 0, "tail": b"", "bytes": 0}
            opened += 1
        for key, ev in sel.select(timeout=0.05):
            s = key.fileobj
            st = state[s]
            if not st["sent"]:
                try:
                    s.sendall(req)
                except OSError:
                    errors += 1
                    sel.unregister(s)
                    s.close()
                    continue
                st["sent"] = True
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            t = time.monotonic()
            if not data:
                errors += 1
                sel.unregister(s)
                s.close()
                continue
            if st["t0"] is None:
                st["t0"] = t
            st["bytes"] += len(data)
            buf = st["tail"] + data
            n = buf.count(marker)
            if n:
                first = st["tokens"] + 1  # the earliest token in this read is the latest one
                expected = st["t0"] + first * a.delay_ms / 1000.0
                lateness.append(t - expected)
                st["tokens"] += n
            st["tail"] = buf[-(len(marker) - 1):]
            if buf.endswith(b"0\r\n\r\n"):
                if st["tokens"] == a.tokens:
                    done += 1
                else:
                    errors += 1
                sel.unregister(s)
                s.close()
        if now - last_sample > 0.5:
            last_sample = now
            cpu, rss = proc_cpu_rss(a.pid)
            peak_rss = max(peak_rss, rss)
            # Steady-state CPU: from when all streams are open to the first completion.
            if cpu_mid0 is None and opened == a.streams and now - t_begin > a.ramp_s + 1:
                cpu_mid0 = (cpu, now)
            if cpu_mid0 and done == 0:
                cpu_mid = (cpu - cpu_mid0[0]) / max(1e-9, now - cpu_mid0[1])
    wall = time.monotonic() - t_begin
    cpu1, rss = proc_cpu_rss(a.pid)
    lateness.sort()
    pct = lambda p: lateness[min(len(lateness) - 1, int(p * len(lateness)))] * 1000
    expected = a.tokens * a.delay_ms / 1000.0
    print(f"streams={a.streams} provider={a.provider} tokens={a.tokens} delay={a.delay_ms}ms "
          f"(stream length {expected:.1f}s, aggregate {a.streams * 1000 / a.delay_ms:.0f} tokens/s)")
    print(f"completed={done} errors={errors} wall={wall:.1f}s")
    print(f"server CPU total={cpu1 - cpu0:.2f}s ({(cpu1 - cpu0) / wall * 100:.1f}% of one core over "
          f"the run)" + (f", steady state {cpu_mid * 100:.1f}%" if cpu_mid is not None else ""))
    print(f"server RSS peak={max(peak_rss, rss) / 1024:.1f} MiB")
    print(f"token lateness vs schedule (client-observed, includes client lag): p50={pct(0.5):.1f}ms "
          f"p99={pct(0.99):.1f}ms max={lateness[-1] * 1000:.1f}ms")


if __name__ == "__main__":
    main()
