#!/usr/bin/env python3
"""SPEC P6: ticket list / filter / full-text search latency on a seeded desk
(100,000 tickets, 1,000,000 messages), through the real HTTP API of a release build.

Baseline in the same run: GET /healthz (the bare HTTP round trip through the same server),
so each figure also reads as "how much the query adds".
Usage: cargo build --release && python3 benches/tickets.py [--tickets N --messages M]
"""
import argparse, json, shutil, socket, statistics, subprocess, tempfile, time, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--binary", default="target/release/frontdesk")
ap.add_argument("--tickets", type=int, default=100_000)
ap.add_argument("--messages", type=int, default=1_000_000)
ap.add_argument("--runs", type=int, default=200)
a = ap.parse_args()

data = tempfile.mkdtemp(prefix="fd-p6-")
t0 = time.time()
print(subprocess.run([a.binary, "seed", "--data-dir", data, "--tickets", str(a.tickets), "--messages", str(a.messages)],
                     check=True, capture_output=True, text=True).stdout.strip())
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
server = subprocess.Popen([a.binary, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"
while True:
    try:
        urllib.request.urlopen(base + "/readyz").read(); break
    except Exception:
        time.sleep(0.05)
token = subprocess.run([a.binary, "token", "create", "--data-dir", data, "--name", "bench", "--scope", "admin"],
                       check=True, capture_output=True, text=True).stdout.strip()

def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    t = time.perf_counter()
    body = urllib.request.urlopen(req).read()
    return (time.perf_counter() - t) * 1000, body

dept = json.loads(get("/api/v1/departments")[1])["items"][0]["id"]
cases = [
    ("baseline: GET /healthz", "/healthz"),
    ("list newest 50", "/api/v1/tickets?limit=50"),
    ("list page 2 (keyset)", "/api/v1/tickets?limit=50&before=" + str(a.tickets + 1000 - 50)),
    ("filter status=open", "/api/v1/tickets?status=open&limit=50"),
    ("filter open+department+oldest", f"/api/v1/tickets?status=open&department_id={dept}&sort=oldest&limit=50"),
    ("filter unassigned open", "/api/v1/tickets?status=open&agent=none&limit=50"),
    ("filter tag=vip", "/api/v1/tickets?tag=vip&limit=50"),
    ("filter customer", "/api/v1/tickets?customer=customer1-17&limit=50"),
    ("counts", "/api/v1/tickets/counts"),
    ("search 'refund'", "/api/v1/tickets?q=refund&limit=50"),
    ("search 'zamówienie kurier'", "/api/v1/tickets?q=zam%C3%B3wienie%20kurier&limit=50"),
    ("search 'доставка' + open", "/api/v1/tickets?q=%D0%B4%D0%BE%D1%81%D1%82%D0%B0%D0%B2%D0%BA%D0%B0&status=open&limit=50"),
    ("open one ticket (thread)", f"/api/v1/tickets/{1000 + a.tickets // 2}"),
]
print(f"{'query':34} {'p50 ms':>8} {'p95 ms':>8}")
rows = []
for name, path in cases:
    for _ in range(5):
        get(path)
    times = sorted(get(path)[0] for _ in range(a.runs))
    p50, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
    rows.append((name, p50, p95))
    print(f"{name:34} {p50:8.2f} {p95:8.2f}")
worst = max(r[2] for r in rows[1:])
print(f"worst p95 {worst:.1f} ms (target <= 50 ms); baseline p95 {rows[0][2]:.2f} ms")
server.terminate(); server.wait()
shutil.rmtree(data)
