#!/usr/bin/env python3
"""SPEC M2 / issue 13: year-long report latency on the seeded big desk (100,000 tickets,
1,000,000 messages, a year of chats and of 20 agents' shifts), through the real HTTP API of a
release build with a metrics (read-only) token, as a script would call it. Target: p95 <= 200 ms.

Baseline in the same run: GET /healthz (the bare HTTP round trip through the same server).
Usage: cargo build --release && python3 benches/reports.py [--tickets N --messages M --chats C]
       [--data-dir DIR]  (reuse a directory seeded before, e.g. to run two builds back to back
       on the same data; it is seeded first when empty, and kept)
"""
import argparse, datetime, os, shutil, socket, statistics, subprocess, tempfile, time, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--binary", default="target/release/frontdesk")
ap.add_argument("--tickets", type=int, default=100_000)
ap.add_argument("--messages", type=int, default=1_000_000)
ap.add_argument("--chats", type=int, default=100_000)
ap.add_argument("--runs", type=int, default=40)
ap.add_argument("--data-dir", help="seeded data to reuse (seeded here when empty; kept)")
a = ap.parse_args()

keep = a.data_dir is not None
data = a.data_dir or tempfile.mkdtemp(prefix="fd-reports-")
try:
    os.makedirs(data, exist_ok=True)
    if not os.path.exists(os.path.join(data, "frontdesk.db")):
        t = time.perf_counter()
        print(subprocess.run([a.binary, "seed", "--data-dir", data, "--tickets", str(a.tickets), "--messages", str(a.messages),
                              "--chats", str(a.chats)], check=True, capture_output=True, text=True).stdout.strip())
        print(f"seeding took {time.perf_counter() - t:.0f} s")
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    server = subprocess.Popen([a.binary, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/readyz").read(); break
        except Exception:
            if time.time() > deadline:
                raise SystemExit("server did not become ready")
            time.sleep(0.05)
    token = subprocess.run([a.binary, "token", "create", "--data-dir", data, "--name", "bench", "--scope", "metrics"],
                           check=True, capture_output=True, text=True).stdout.strip()

    def get(path):
        req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
        t = time.perf_counter()
        body = urllib.request.urlopen(req).read()
        return (time.perf_counter() - t) * 1000, body

    today = datetime.date.today()
    year = f"from={today - datetime.timedelta(days=364)}&to={today}"
    cases = [
        ("baseline: GET /healthz", "/healthz"),
        ("chats, year by month", f"/api/v1/reports/chats?{year}&granularity=month"),
        ("chats, year by day + previous", f"/api/v1/reports/chats?{year}&granularity=day&compare=previous"),
        ("chats, year by week, CSV", f"/api/v1/reports/chats?{year}&granularity=week&format=csv"),
        ("tickets, year by month + previous", f"/api/v1/reports/tickets?{year}&granularity=month&compare=previous"),
        ("agents, year (online time)", f"/api/v1/reports/agents?{year}"),
        ("heatmap, year", f"/api/v1/reports/heatmap?{year}"),
        ("tags, year", f"/api/v1/reports/tags?{year}"),
    ]
    print(f"{'report':36} {'p50 ms':>8} {'p95 ms':>8}")
    rows = []
    for name, path in cases:
        for _ in range(3):
            get(path)
        times = sorted(get(path)[0] for _ in range(a.runs))
        p50, p95 = statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]
        rows.append((name, p50, p95))
        print(f"{name:36} {p50:8.1f} {p95:8.1f}")
    t = time.perf_counter()
    n, size = 0, 0
    with urllib.request.urlopen(urllib.request.Request(base + f"/api/v1/exports/conversations?{year}",
                                                       headers={"Authorization": f"Bearer {token}"})) as r:
        for line in r:
            n += 1; size += len(line)
    print(f"export conversations, year: {n - 1} rows, {size / 1e6:.1f} MB in {(time.perf_counter() - t) * 1000:.0f} ms (streamed)")
    worst = max(r[2] for r in rows[1:])
    print(f"worst p95 {worst:.1f} ms (target <= 200 ms); baseline p95 {rows[0][2]:.2f} ms")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    server.terminate(); server.wait()
finally:
    if not keep:
        shutil.rmtree(data, ignore_errors=True)
