#!/usr/bin/env python3
"""SPEC P5: stripped release binary size, cold start to /readyz on an existing database, idle RSS.

Baseline measured in the same run: `sqlite3 DB 'SELECT 1'` (the cost of just opening the
database file with the stock CLI), so the start-up figure reads as a ratio against it.
Usage: benches/startup.py [path/to/frontdesk [RUNS]]   (build with `cargo build --release` first; 15 runs)
"""
import os, re, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/frontdesk"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
data = tempfile.mkdtemp(prefix="fd-bench-")
subprocess.run([binary, "migrate", "--data-dir", data], check=True, capture_output=True)

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

starts, rss = [], []
for _ in range(runs):
    port = free_port()
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).read()
            break
        except Exception:
            time.sleep(0.0005)
    starts.append((time.perf_counter() - t0) * 1000)
    time.sleep(1.0)  # let it settle into idle
    rss.append(int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{p.pid}/status").read()).group(1)) / 1024)
    p.terminate(); p.wait()

base = []
if shutil.which("sqlite3"):
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(["sqlite3", os.path.join(data, "frontdesk.db"), "SELECT 1"], capture_output=True)
        base.append((time.perf_counter() - t0) * 1000)

size = os.path.getsize(binary) / 1e6
med = statistics.median(starts)
print(f"binary size          {size:.1f} MB   (target <= 20 MB)")
print(f"start -> /readyz     median {med:.1f} ms, max {max(starts):.1f} ms over {runs} runs   (target <= 50 ms)")
if base:
    b = statistics.median(base)
    print(f"baseline sqlite3 open+query  median {b:.1f} ms   ratio {med / b:.1f}x")
print(f"idle RSS             median {statistics.median(rss):.1f} MB   (target <= 20 MB)")
shutil.rmtree(data)
