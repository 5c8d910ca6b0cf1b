#!/usr/bin/env python3
"""SPEC S1 under crashes: no acknowledged chat message is ever lost or duplicated.

Starts the server binary on a temporary data dir and runs a steady chat load: V visitor
sockets, each sending numbered messages (a window of them in flight) and recording every
`ack`. At a random moment the server is SIGKILLed (no shutdown code runs), restarted on the
same data dir, and checked:

  * `PRAGMA integrity_check` is `ok` (read-only connection to the live database file);
  * every acknowledged message is stored exactly once, with the acknowledged seq;
  * no message body is stored twice (resends after a crash are deduplicated).

Then the visitors reconnect with their token and `resume`, resend what was not acknowledged
(as the widget does), and the load goes on until the next kill. Repeats --kills times.
Prints `kills / acked / lost / duplicated` and exits 1 on any loss, duplicate or corruption.

Usage: pip install websockets && python3 benches/crash_loop.py [--kills 100] [--visitors 8]
       [--binary target/release/frontdesk] [--seed N]
Default binary: target/release/frontdesk if it exists, else target/debug/frontdesk.
"""
import argparse, asyncio, http.cookiejar, json, os, random, shutil, signal, sqlite3, subprocess, sys, tempfile, time, urllib.request

import websockets

AGENT_EMAIL, AGENT_PASSWORD = "ann@shop.example", "a long password"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_binary():
    for kind in ("release", "debug"):
        p = os.path.join(ROOT, "target", kind, "frontdesk")
        if os.path.exists(p):
            return p
    sys.exit("no server binary: cargo build (or --binary PATH)")


class Server:
    """One `frontdesk serve` process on the shared data dir; a fresh port each start."""

    def __init__(self, binary, data, log):
        self.binary, self.data, self.log = binary, data, log
        self.proc, self.url = None, None

    def start(self, deadline_s=60):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "FRONTDESK_LOG_LEVEL": "warn",
            # One machine plays every visitor, faster than people type.
            "FRONTDESK_VISITOR_SESSION_RATE": "1000000/1s",
            "FRONTDESK_VISITOR_MESSAGE_RATE": "1000000/1s",
            "FRONTDESK_VISITOR_MESSAGE_RATE_IP": "1000000/1s",
            "FRONTDESK_VISITOR_HELLO_RATE": "1000000/1s",
            "FRONTDESK_VISITOR_HELLO_RATE_IP": "1000000/1s",
        }
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data-dir", self.data, "--listen", "127.0.0.1:0", "--log-format", "json"],
            env=env, stdout=subprocess.PIPE, stderr=self.log, text=True)
        end = time.monotonic() + deadline_s
        # The address is the first thing printed on stdout.
        while True:
            if time.monotonic() > end:
                raise RuntimeError(f"server did not print its address within {deadline_s} s")
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"server exited while starting (code {self.proc.poll()}); log: {self.log.name}")
            if line.startswith("Listening on "):
                self.url = line.split(" ", 2)[2].strip().rstrip("/")
                break
        while True:
            if time.monotonic() > end:
                raise RuntimeError(f"/readyz not 200 within {deadline_s} s")
            try:
                if urllib.request.urlopen(self.url + "/readyz", timeout=5).status == 200:
                    break
            except Exception:
                time.sleep(0.02)
        self.accepting()

    def add_agent(self):
        """Chats start only while an agent accepts them (routing, SPEC W6): one agent with chat
        limit 0, so chats wait in the queue and the visitors' messages are all that is stored."""
        subprocess.run(
            [self.binary, "agent", "add", "--email", AGENT_EMAIL, "--name", "Ann", "--role", "agent", "--chat-limit", "0", "--password-stdin"],
            input=AGENT_PASSWORD + "\n", text=True, check=True, capture_output=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "FRONTDESK_DATA_DIR": self.data})

    def accepting(self):
        """Sign the agent in and switch to accepting (after every restart: status survives, but
        a restart is not a console session)."""
        jar = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        def call(method, path, body):
            req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method=method,
                                         headers={"Content-Type": "application/json", "Origin": self.url})
            return jar.open(req, timeout=30).status
        if call("POST", "/api/v1/auth/login", {"email": AGENT_EMAIL, "password": AGENT_PASSWORD}) != 200:
            raise RuntimeError("agent login failed")
        if call("PUT", "/api/v1/me/status", {"status": "accepting"}) != 200:
            raise RuntimeError("agent status change failed")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc.stdout.close()


class Visitor:
    """A widget: a token, a conversation, messages it sent and the acks it got."""

    def __init__(self, vid):
        self.vid = vid
        self.token = None
        self.conv = None
        self.last_seq = 0
        self.next_n = 0
        self.unacked = {}  # client_id -> body, in send order
        self.acked = {}  # client_id -> (conversation, seq)

    def new_message(self):
        cid = f"v{self.vid}-m{self.next_n}"
        self.next_n += 1
        self.unacked[cid] = f"crash-loop {cid}"
        return cid

    async def run(self, url, stop, window):
        """Connect (resuming), resend everything unacked, then keep `window` messages in flight
        until the socket dies (the server was killed) or `stop` is set."""
        try:
            async with websockets.connect(url.replace("http", "ws", 1) + "/ws/visitor", origin=url,
                                          open_timeout=10, ping_interval=None, max_size=None) as ws:
                hello = {"type": "hello", "v": 1}
                if self.token:
                    hello["token"] = self.token
                if self.conv:
                    hello["resume"] = {"conversation": self.conv, "last_seq": self.last_seq}
                await ws.send(json.dumps(hello))
                while True:
                    f = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if f["type"] == "welcome":
                        break
                self.token = f["token"]
                if f.get("conversation"):
                    self.conv = f["conversation"]["id"]
                # Resend in order; the server answers a known client_id with the original ack.
                for cid, body in list(self.unacked.items()):
                    await ws.send(json.dumps({"type": "message", "client_id": cid, "body": body}))
                while not stop.is_set():
                    while len(self.unacked) < window:
                        cid = self.new_message()
                        await ws.send(json.dumps({"type": "message", "client_id": cid, "body": self.unacked[cid]}))
                    f = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if f["type"] == "ack":
                        cid = f["client_id"]
                        self.acked[cid] = (f["conversation"], f["seq"])
                        self.unacked.pop(cid, None)
                        self.conv = f["conversation"]
                        self.last_seq = max(self.last_seq, f["seq"])
                    elif f["type"] == "message":
                        self.last_seq = max(self.last_seq, f["seq"])
                    elif f["type"] == "error":
                        raise RuntimeError(f"visitor {self.vid}: server error frame {f}")
        except (websockets.ConnectionClosed, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            return  # the server died under us: expected


def check(db_path, visitors):
    """(acked, lost, duplicated, integrity) as stored now in the database file."""
    c = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        integrity = c.execute("PRAGMA integrity_check").fetchone()[0]
        rows = c.execute("SELECT conversation_id, client_id, seq, body FROM messages WHERE author_kind = 'visitor'").fetchall()
    finally:
        c.close()
    stored = {}
    bodies = {}
    for conv, cid, seq, body in rows:
        stored.setdefault((conv, cid), []).append(seq)
        bodies[body] = bodies.get(body, 0) + 1
    acked = lost = duplicated = 0
    problems = []
    for v in visitors:
        for cid, (conv, seq) in v.acked.items():
            acked += 1
            got = stored.get((conv, cid), [])
            if not got:
                lost += 1
                problems.append(f"lost {cid} (conversation {conv}, seq {seq})")
            elif len(got) > 1:
                duplicated += 1
                problems.append(f"{cid} stored {len(got)} times")
            elif got[0] != seq:
                lost += 1
                problems.append(f"{cid} acked with seq {seq}, stored with seq {got[0]}")
    dup_bodies = [b for b, n in bodies.items() if n > 1]
    duplicated += len(dup_bodies)
    problems += [f"body stored twice: {b}" for b in dup_bodies[:5]]
    return acked, lost, duplicated, integrity, problems


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--visitors", type=int, default=8)
    ap.add_argument("--window", type=int, default=16, help="messages in flight per visitor")
    ap.add_argument("--min-run", type=float, default=0.1, help="shortest load before a kill, s")
    ap.add_argument("--max-run", type=float, default=1.5, help="longest load before a kill, s")
    ap.add_argument("--binary", default=None)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the data dir")
    a = ap.parse_args()
    binary = a.binary or default_binary()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    data = tempfile.mkdtemp(prefix="fd-crash-")
    log = open(os.path.join(data, "server.log"), "a")
    server = Server(binary, os.path.join(data, "data"), log)
    db_path = os.path.join(data, "data", "frontdesk.db")
    visitors = [Visitor(i) for i in range(a.visitors)]
    print(f"crash loop: {a.kills} kills, {a.visitors} visitors, binary {binary}, seed {seed}, data {data}", flush=True)
    started = time.monotonic()
    failed = False
    kills = 0
    try:
        os.makedirs(server.data, exist_ok=True)
        server.add_agent()
        server.start()
        for k in range(1, a.kills + 1):
            stop = asyncio.Event()
            tasks = [asyncio.create_task(v.run(server.url, stop, a.window)) for v in visitors]
            await asyncio.sleep(rng.uniform(a.min_run, a.max_run))
            server.kill()  # mid-load: some messages are committed and acked, others in flight
            kills += 1
            stop.set()
            done, pending = await asyncio.wait(tasks, timeout=30)
            if pending:
                raise RuntimeError(f"{len(pending)} visitor tasks still running 30 s after the kill")
            for t in done:
                t.result()
            server.start()
            acked, lost, duplicated, integrity, problems = check(db_path, visitors)
            if lost or duplicated or integrity != "ok":
                failed = True
                print(f"kill {k}: acked {acked}, lost {lost}, duplicated {duplicated}, integrity {integrity}", flush=True)
                for p in problems[:20]:
                    print("  " + p)
                break
            if k % 10 == 0 or k == a.kills:
                print(f"kill {k}: acked {acked}, lost 0, duplicated 0, integrity ok", flush=True)
        acked, lost, duplicated, integrity, _ = check(db_path, visitors)
    finally:
        if server.proc and server.proc.poll() is None:
            server.proc.send_signal(signal.SIGTERM)
            try:
                server.proc.wait(30)
            except subprocess.TimeoutExpired:
                server.proc.kill()
        log.close()
    secs = time.monotonic() - started
    failed = failed or lost > 0 or duplicated > 0 or integrity != "ok"
    print(f"kills {kills}, acked {acked}, lost {lost}, duplicated {duplicated}, integrity {integrity}, {secs:.1f} s")
    # A `N passed, N failed` line for tests/run.sh.
    print(f"crash loop: {0 if failed else 1} passed, {1 if failed else 0} failed")
    if failed or a.keep:
        print(f"data kept in {data}")
    else:
        shutil.rmtree(data, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
