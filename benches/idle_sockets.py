#!/usr/bin/env python3
"""SPEC P1 (first look): server memory per idle visitor socket.

Opens N visitor sockets against a release server (each says hello and gets its welcome, then
stays idle), and reports the server's RSS growth per socket. Baseline in the same run: the
same number of idle TCP connections to /healthz that send nothing (what the OS and actix cost
without any frontdesk state).
Usage: cargo build --release && pip install websockets && python3 benches/idle_sockets.py [N]
"""
import asyncio, json, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request

import websockets

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
binary = "target/release/frontdesk"


def rss_kib(pid):
    return int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{pid}/status").read()).group(1))


def start():
    data = tempfile.mkdtemp(prefix="fd-p1-")
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    # One machine plays every visitor: lift the per-IP new-visitor limit for the run.
    env = {"FRONTDESK_LOG_LEVEL": "error", "PATH": "/usr/bin:/bin", "FRONTDESK_VISITOR_SESSION_RATE": "1000000/1s"}
    p = subprocess.Popen([binary, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz").read(); break
        except Exception:
            time.sleep(0.05)
    return p, port, data


async def visitors(port, n):
    socks = []
    origin = f"http://127.0.0.1:{port}"
    for i in range(n):
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws/visitor", origin=origin, max_size=None)
        await ws.send(json.dumps({"type": "hello", "v": 1}))
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome", welcome
        socks.append(ws)
    return socks


async def raw(port, n):
    conns = []
    for _ in range(n):
        r, w = await asyncio.open_connection("127.0.0.1", port)
        conns.append(w)
    return conns


async def main():
    # Baseline: idle TCP connections.
    p, port, data = start()
    await asyncio.sleep(0.5)
    before = rss_kib(p.pid)
    conns = await raw(port, N)
    await asyncio.sleep(1.0)
    tcp = (rss_kib(p.pid) - before) / N
    for w in conns:
        w.close()
    p.terminate(); p.wait(); shutil.rmtree(data)

    p, port, data = start()
    await asyncio.sleep(0.5)
    before = rss_kib(p.pid)
    t0 = time.time()
    socks = await visitors(port, N)
    await asyncio.sleep(1.0)
    after = rss_kib(p.pid)
    per = (after - before) / N
    print(f"{N} idle visitor sockets: RSS {before/1024:.1f} MB -> {after/1024:.1f} MB, {per:.1f} KiB per socket "
          f"(target <= 32 KiB); opened in {time.time()-t0:.1f} s, a new visitor row each")
    print(f"baseline: {N} idle TCP connections cost {tcp:.1f} KiB each; ratio {per / max(tcp, 0.1):.1f}x")
    for ws in socks:
        await ws.close()
    p.terminate(); p.wait(); shutil.rmtree(data)

asyncio.run(main())
