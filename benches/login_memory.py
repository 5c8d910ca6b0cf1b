#!/usr/bin/env python3
"""SPEC P5: idle memory after agent logins (issue: administration and trust, "Memory").

Each login verifies an argon2id hash (19 MiB of working memory). For each binary given: a
fresh data dir with one agent (created by the CLI, so the server has hashed nothing), start
`serve`, then read VmRSS from /proc/PID/status fresh (1 s after /readyz), 2 s after 16 logins
(made 4 at a time, so several threads hash), and again after 60 s of quiet. VmHWM is the peak.
Usage: benches/login_memory.py [frontdesk-binary ...]   (default target/release/frontdesk)
Giving the previous build as a second binary measures before and after in the same run.
"""
import http.cookiejar, json, re, shutil, socket, subprocess, sys, tempfile, threading, time, urllib.request

binaries = sys.argv[1:] or ["target/release/frontdesk"]
LOGINS, AT_ONCE, QUIET_S = 16, 4, 60
EMAIL, PASSWORD = "bench@shop.example", "a long bench password"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def status(pid, key):
    return int(re.search(rf"{key}:\s+(\d+)", open(f"/proc/{pid}/status").read()).group(1)) / 1024


def login(base):
    jar = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    req = urllib.request.Request(f"{base}/api/v1/auth/login", data=json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
                                 headers={"content-type": "application/json", "origin": base})
    with jar.open(req, timeout=30) as r:
        assert r.status == 200, r.status
        assert "id" in json.loads(r.read()), "a session, not a second step"


def measure(binary):
    data = tempfile.mkdtemp(prefix="fd-bench-")
    try:
        subprocess.run([binary, "agent", "add", "--data-dir", data, "--email", EMAIL, "--name", "Bench", "--role", "agent",
                        "--password-stdin"], input=PASSWORD + "\n", text=True, check=True, capture_output=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        p = subprocess.Popen([binary, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{base}/readyz", timeout=1).read(); break
                except Exception:
                    if time.monotonic() > deadline: raise RuntimeError("server did not get ready")
                    time.sleep(0.01)
            time.sleep(1)
            fresh = status(p.pid, "VmRSS")
            t0 = time.perf_counter()
            for _ in range(LOGINS // AT_ONCE):
                ts = [threading.Thread(target=login, args=(base,)) for _ in range(AT_ONCE)]
                [t.start() for t in ts]; [t.join() for t in ts]
            took = time.perf_counter() - t0
            time.sleep(2)
            after = status(p.pid, "VmRSS")
            time.sleep(QUIET_S)
            later, peak = status(p.pid, "VmRSS"), status(p.pid, "VmHWM")
            return fresh, after, later, peak, took
        finally:
            p.terminate(); p.wait()
    finally:
        shutil.rmtree(data, ignore_errors=True)


print(f"{'binary':<40} {'fresh':>8} {'16 logins':>10} {f'+{QUIET_S} s':>8} {'peak':>8} {'logins took':>12}")
for b in binaries:
    fresh, after, later, peak, took = measure(b)
    print(f"{b:<40} {fresh:>6.1f}MB {after:>8.1f}MB {later:>6.1f}MB {peak:>6.1f}MB {took:>10.2f} s")
print("target: idle RSS <= 20 MB after 16 logins and a minute of quiet (SPEC P5)")
