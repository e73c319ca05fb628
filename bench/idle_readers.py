#!/usr/bin/env python3
"""Idle readers: many clients following silent replies (GET /api/v2/chats/{chat}/stream).

R replies are started and then stay silent (the fake provider sends the stream's opening and
then nothing for --hold-s; chatd's upstream-idle-timeout is set above that). N readers attach,
N/R to each reply, through nginx, and the run watches them for --watch-s: what chatd's workers
hold in memory (RSS before the readers and with all of them), and how late each `stream-
keepalive` line (an empty line every --keepalive-s) comes: per reader, the time between two
keep-alive lines, less the interval. Prints one line per figure and a JSON object.

Issue 15's targets on this 2-core machine: 10,000 readers, chatd's RSS growth ≤ 100 MB, the
keep-alives p99 ≤ 100 ms late.
"""
import argparse
import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


class Reader:
    """One HTTP/1.1 client of a chunked streamed response, noting when empty lines arrive."""

    def __init__(self):
        self.status = None
        self.keepalives = []  # monotonic times of keep-alive lines
        self.ended = False
        self.error = None
        self.attached = asyncio.Event()  # set once the response head is in, or it failed

    async def run(self, port, method, path, token, body=None):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        except OSError as e:
            self.error = f"connect: {e}"
            self.attached.set()
            return
        payload = json.dumps(body).encode() if body is not None else b""
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCoder-Session-Token: {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
        writer.write(head.encode() + payload)
        try:
            line = await reader.readline()
            self.status = int(line.split()[1])
            while (await reader.readline()) not in (b"\r\n", b""):
                pass
            self.attached.set()
            pending = b""
            while True:  # chunked: size line, data, CRLF
                size = await reader.readline()
                if not size:
                    break
                n = int(size.strip() or b"0", 16)
                if n == 0:
                    self.ended = True
                    break
                pending += await reader.readexactly(n)
                await reader.readexactly(2)
                *lines, pending = pending.split(b"\n")
                now = time.monotonic()
                self.keepalives.extend(now for line in lines if line == b"")
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.attached.set()
            writer.close()


async def attach(readers, port, jobs, concurrency):
    """Starts the readers, at most `concurrency` connecting at once; returns their tasks."""
    gate = asyncio.Semaphore(concurrency)
    tasks = []

    async def one(reader, args):
        async with gate:
            task = asyncio.ensure_future(reader.run(port, *args))
            await reader.attached.wait()
        await task

    for reader, args in zip(readers, jobs):
        tasks.append(asyncio.ensure_future(one(reader, args)))
    return tasks


async def all_attached(readers):
    await asyncio.gather(*(r.attached.wait() for r in readers))


async def measure(a, s, chats):
    port = s.nginx_ports["chatd"]
    hold = {"steps": [{"text": "held", "token_delay_ms": int(a.hold_s * 1000)}]}
    message = {"model": stack.FAKE_MODEL,
               "message": {"role": "user", "content": "SCRIPT " + json.dumps(hold)}}
    owners = [Reader() for _ in chats]
    owner_tasks = await attach(owners, port, [("POST", f"/api/v2/chats/{c}/messages", t, message)
                                              for c, t in chats], 200)
    try:
        await asyncio.wait_for(all_attached(owners), 60)
    except asyncio.TimeoutError:
        raise SystemExit("the replies did not start")
    bad = [o.error or o.status for o in owners if o.status != 200]
    if bad:
        raise SystemExit(f"{len(bad)} replies did not start: {bad[:5]}")
    app = s.services["chatd"].pids()
    await asyncio.sleep(2)  # the starts' passing allocations settle before the baseline
    rss_before = stack.rss_kb(app)

    readers = [Reader() for _ in range(a.readers)]
    jobs = [("GET", f"/api/v2/chats/{chats[i % len(chats)][0]}/stream", chats[i % len(chats)][1])
            for i in range(a.readers)]
    started = time.monotonic()
    tasks = await attach(readers, port, jobs, a.connect_concurrency)
    try:
        await asyncio.wait_for(all_attached(readers), 120)
    except asyncio.TimeoutError:
        pass  # the statuses say how many did not
    attached_s = time.monotonic() - started
    watch_from = time.monotonic()
    peak = 0
    while time.monotonic() - watch_from < a.watch_s:
        peak = max(peak, stack.rss_kb(app))
        await asyncio.sleep(1)
    rss_with = stack.rss_kb(app)
    late_ms = []
    for r in readers:
        times = [t for t in r.keepalives if t >= watch_from]
        late_ms += [((b - x) - a.keepalive_s) * 1000 for x, b in zip(times, times[1:])]
    for t in tasks + owner_tasks:
        t.cancel()
    statuses = {}
    for r in readers:
        key = str(r.status if r.error is None else r.error.split(":")[0])
        statuses[key] = statuses.get(key, 0) + 1
    open_at_end = sum(r.status == 200 and r.error is None and not r.ended for r in readers)
    return {
        "readers": a.readers, "replies": len(chats), "attached_s": round(attached_s, 1),
        "statuses": statuses, "open_at_end": open_at_end,
        "rss_before_mb": round(rss_before / 1024, 1), "rss_with_mb": round(rss_with / 1024, 1),
        "rss_peak_mb": round(peak / 1024, 1),
        "rss_growth_mb": round((max(peak, rss_with) - rss_before) / 1024, 1),
        "rss_per_reader_kb": round((max(peak, rss_with) - rss_before) / max(a.readers, 1), 1),
        "keepalive_intervals": len(late_ms),
        "keepalive_late_ms": {"p50": round(percentile(late_ms, 0.5), 1),
                              "p99": round(percentile(late_ms, 0.99), 1),
                              "max": round(max(late_ms, default=float("nan")), 1)},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readers", type=int, default=10000)
    ap.add_argument("--replies", type=int, default=50)
    ap.add_argument("--watch-s", type=float, default=50)
    ap.add_argument("--keepalive-s", type=float, default=15)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--connect-concurrency", type=int, default=100)
    a = ap.parse_args()
    a.hold_s = a.watch_s + 180  # silent well past the watch, whatever the attaching took
    per_reply = -(-a.readers // a.replies)
    with stack.Stack() as s:
        s.worker_connections = 3 * (a.readers + a.replies) + 1024
        s.start_postgres()
        s.migrate()
        s.seed(stream_chats=a.replies, stream_users=a.replies)
        chats = s.stream_chats()[:a.replies]
        s.start_fake()
        s.base_site(proxy_ports={"/v1/": s.fake_port})
        s.start_chatd(a.workers, a.threads, extra=(
            "--upstream-idle-timeout", f"{int(a.hold_s + 60)}s",
            "--stream-keepalive", f"{a.keepalive_s}s",
            "--max-readers-per-reply", str(per_reply + 1),
            "--max-replies-per-user", "0"))
        s.site("chatd", s.chatd_socket)
        s.start_nginx()
        load = os.getloadavg()
        print(f"# load average at start: {load}", flush=True)
        res = asyncio.run(measure(a, s, chats))
        res["load_start"] = load
        res["load_end"] = os.getloadavg()
        print(f"# load average at end: {res['load_end']}", flush=True)
    k = res["keepalive_late_ms"]
    print(f"{res['readers']} readers on {res['replies']} silent replies (chatd --workers "
          f"{a.workers} --threads {a.threads}): attached in {res['attached_s']} s, statuses "
          f"{res['statuses']}, {res['open_at_end']} still open after {a.watch_s:.0f} s")
    print(f"chatd RSS {res['rss_before_mb']} MB -> {res['rss_with_mb']} MB (peak "
          f"{res['rss_peak_mb']}): +{res['rss_growth_mb']} MB, {res['rss_per_reader_kb']} KiB "
          f"per reader (target: +100 MB at most) "
          f"{'MET' if res['rss_growth_mb'] <= 100 else 'NOT MET'}")
    print(f"keep-alives every {a.keepalive_s:.0f} s, late by p50 {k['p50']} / p99 {k['p99']} / "
          f"max {k['max']} ms over {res['keepalive_intervals']} intervals (target: p99 ≤ 100 ms) "
          f"{'MET' if k['p99'] <= 100 else 'NOT MET'}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
