#!/usr/bin/env python3
"""SPEC P5 / security finding 9: server memory while 60 clients download one 10 MiB file.

Starts a release server, uploads one 10 MiB attachment (as a widget visitor), downloads it once
(warm-up), then records the server's RSS (from /proc, sampled every 5 ms) while 60 clients
download it at the same time, each reading 64 KiB at a time with a short pause (slow readers
hold their download open longest). Every download must arrive complete and byte-identical.

Run 1 lifts `download_concurrency_ip` so all 60 stream at once (the memory of streaming itself);
run 2 keeps the default cap and counts how many of the 60 got 429.

Target: RSS growth <= 32 MiB (before streaming: +843 MiB, each download held the whole file).
Usage: cargo build --release && pip install websockets && python3 benches/downloads.py [clients] [binary]
"""
import asyncio, hashlib, http.client, json, os, re, shutil, socket, subprocess, sys, tempfile, threading, time, urllib.request

import websockets

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 60
binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/frontdesk"
SIZE = 10 << 20


def rss_kib(pid):
    return int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{pid}/status").read()).group(1))


def start(extra_env):
    data = tempfile.mkdtemp(prefix="fd-p5-dl-")
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    env = {"FRONTDESK_LOG_LEVEL": "error", "PATH": "/usr/bin:/bin", **extra_env}
    p = subprocess.Popen([binary, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz").read(); break
        except Exception:
            if time.time() > deadline:
                raise SystemExit("server did not become ready in 60 s")
            time.sleep(0.05)
    return p, port, data


async def visitor_token(port):
    origin = f"http://127.0.0.1:{port}"
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/visitor", origin=origin) as ws:
        await ws.send(json.dumps({"type": "hello", "v": 1}))
        welcome = json.loads(await ws.recv())
        return welcome["token"]


def upload(port, token, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/widget/uploads", data=body, method="POST", headers={
        "origin": f"http://127.0.0.1:{port}", "x-visitor-token": token, "x-file-name": "big.bin",
        "content-type": "application/octet-stream"})
    return json.loads(urllib.request.urlopen(req).read())["url"]


def download(port, url, pause, out, i, barrier):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    if barrier:
        barrier.wait()
    c.request("GET", url)
    r = c.getresponse()
    if r.status != 200:
        r.read(); out[i] = (r.status, None); c.close(); return
    h = hashlib.sha256(); n = 0
    while True:
        piece = r.read(64 * 1024)
        if not piece:
            break
        h.update(piece); n += len(piece)
        if pause:
            time.sleep(pause)
    c.close()
    out[i] = (200, (n, h.hexdigest()))


def run(extra_env, label):
    p, port, data = start(extra_env)
    try:
        token = asyncio.run(visitor_token(port))
        body = os.urandom(SIZE)
        want = (SIZE, hashlib.sha256(body).hexdigest())
        url = upload(port, token, body)
        del body
        warm = [None]
        download(port, url, 0, warm, 0, None)
        assert warm[0] == (200, want), warm
        time.sleep(0.5)
        before = rss_kib(p.pid)
        peak = [before]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kib(p.pid))
                time.sleep(0.005)
        sampler = threading.Thread(target=sample); sampler.start()
        out = [None] * CLIENTS
        barrier = threading.Barrier(CLIENTS)
        t0 = time.time()
        threads = [threading.Thread(target=download, args=(port, url, 0.002, out, i, barrier)) for i in range(CLIENTS)]
        for t in threads: t.start()
        for t in threads: t.join()
        took = time.time() - t0
        time.sleep(0.3)
        stop.set(); sampler.join()
        after = rss_kib(p.pid)
        ok = sum(1 for o in out if o == (200, want))
        limited = sum(1 for o in out if o[0] == 429)
        bad = CLIENTS - ok - limited
        print(f"{label}: {CLIENTS} parallel downloads of 10 MiB in {took:.1f} s: {ok} complete and identical, "
              f"{limited} got 429, {bad} wrong")
        print(f"  RSS before {before/1024:.1f} MiB, peak {peak[0]/1024:.1f} MiB (+{(peak[0]-before)/1024:.1f} MiB, target <= 32), "
              f"after {after/1024:.1f} MiB")
        return bad == 0
    finally:
        p.terminate(); p.wait(); shutil.rmtree(data)


ok = run({"FRONTDESK_DOWNLOAD_CONCURRENCY_IP": "10000"}, "cap lifted")
ok = run({}, "default cap (download_concurrency_ip = 16)") and ok
sys.exit(0 if ok else 1)
