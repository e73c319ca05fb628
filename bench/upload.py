#!/usr/bin/env python3
"""File uploads (issue 19): POST /api/v2/chats/files of 10 MiB files through nginx, C at once
(default 4), each file different (no deduplication). Reports the latency (p50, p99, max) and
chatd's RSS: its workers' sum sampled every 10 ms, the peak's growth over the idle value divided
by the uploads in flight — the target is at most twice the file size per upload in flight
(the body, and one copy on its way to PostgreSQL). Run it through bench/upload.sh.
"""
import argparse
import http.client
import os
import statistics
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

PNG_HEADER = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0"


def upload(port, token, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.monotonic()
    conn.request("POST", "/api/v2/chats/files", body=body,
                 headers={"Coder-Session-Token": token, "Content-Type": "image/png"})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mib", type=int, default=10)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--uploads", type=int, default=60, help="in all, spread over the clients")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    a = ap.parse_args()
    size = a.size_mib << 20
    with stack.Stack() as s:
        s.start_postgres()
        s.migrate()
        s.seed()
        s.start_fake()
        s.start_chatd(a.workers, 4, 8, extra=("--max-file-storage-per-user", "100GiB"))
        s.site("chatd", s.chatd_socket)
        s.start_nginx()
        port, token = s.nginx_ports["chatd"], stack.TOKENS["lister"]
        bodies = [PNG_HEADER + os.urandom(size - len(PNG_HEADER)) for _ in range(a.uploads + 2)]
        for body in bodies[:2]:  # warm up: connections, code paths
            status, _ = upload(port, token, body)
            if status != 201:
                raise SystemExit(f"warm-up upload: HTTP {status}")
        app = s.services["chatd"].pids()
        time.sleep(1)
        idle_kb = stack.rss_kb(app)
        peak = [idle_kb]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], stack.rss_kb(app))
                time.sleep(0.01)

        results, lock = [], threading.Lock()
        queue = list(bodies[2:])

        def client():
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                status, seconds = upload(port, token, body)
                with lock:
                    results.append((status, seconds))

        load_before = os.getloadavg()
        sampler = threading.Thread(target=sample)
        sampler.start()
        clients = [threading.Thread(target=client) for _ in range(a.concurrency)]
        t0 = time.monotonic()
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        elapsed = time.monotonic() - t0
        done.set()
        sampler.join()
        load_after = os.getloadavg()
        bad = [st for st, _ in results if st != 201]
        lat = sorted(sec for _, sec in results)
        p99 = lat[min(len(lat) - 1, int(round(0.99 * (len(lat) - 1))))]
        growth = (peak[0] - idle_kb) / 1024
        print(f"{len(results)} uploads of {a.size_mib} MiB, {a.concurrency} at once, through "
              f"nginx to chatd --workers {a.workers} --threads 4 ({elapsed:.1f} s; "
              f"{len(results) * a.size_mib / elapsed:.0f} MiB/s); errors {len(bad)}")
        print(f"latency p50 {statistics.median(lat) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
              f"max {lat[-1] * 1000:.0f} ms (target p99 <= 300 ms)")
        print(f"chatd RSS idle {idle_kb / 1024:.0f} MiB, peak {peak[0] / 1024:.0f} MiB: growth "
              f"{growth:.0f} MiB, {growth / a.concurrency:.1f} MiB per upload in flight = "
              f"{growth / a.concurrency / a.size_mib:.2f}x the file (target <= 2x)")
        print(f"load average before {load_before}, after {load_after}")


if __name__ == "__main__":
    main()
