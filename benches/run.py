#!/usr/bin/env python3
"""SPEC §10 (P1–P4) in one run: frontdesk against a bare actix-ws relay on the same scenarios.

Each server runs pinned to core 0 (`taskset -c 0`), the Rust load generator (benches/loadgen)
to core 1. Scenarios: a 1:1 visitor↔agent rate ladder (exactly-once, in-order, send→receive
and send→ack latency, server CPU), idle sockets (RSS per socket, against idle TCP), and, for
frontdesk, a reconnect storm. The table goes into BENCHMARKS.md between the markers
`<!-- run.sh -->` and `<!-- /run.sh -->`, with the date, the machine and the load on it.
Called by benches/run.sh; `--quick` is the ≤ 3-minute regression mode.
"""
import json, os, re, resource, shutil, socket, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = "--quick" in sys.argv
REL = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release")
FRONTDESK, LOADGEN, RELAY = (os.path.join(REL, b) for b in ("frontdesk", "loadgen", "relay"))
PASSWORD = "bench-password-123"
# ejabberd (Debian package `ejabberd`), the chat server a shop could run instead; run.sh installs it.
HAVE_EJABBERD = os.path.exists("/usr/sbin/ejabberdctl") and os.geteuid() == 0

if QUICK:
    PAIRS, RATES, SECONDS, IDLE, STORM = 100, [1000, 2000, 3000], 3, [2000], 1000
else:
    PAIRS, RATES, SECONDS, IDLE, STORM = 500, [1000, 2000, 3000, 5000, 7500, 10000], 5, [2000, 10000, 20000], 10000


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def wait_ready(url, path, deadline=60):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if urllib.request.urlopen(url + path, timeout=5).status == 200:
                return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"{url}{path} not ready within {deadline} s")


class Server:
    """One server under test, pinned to core 0; stopped (and its data removed) on exit."""

    def __init__(self, kind, agents=0):
        self.kind, self.data = kind, tempfile.mkdtemp(prefix=f"fd-bench-{kind}-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.agents = []
        if kind == "frontdesk":
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "FRONTDESK_DATA_DIR": self.data}
            for i in range(agents):
                email = f"agent{i}@bench.example"
                subprocess.run([FRONTDESK, "agent", "add", "--email", email, "--name", f"Agent {i}", "--role", "agent",
                                "--chat-limit", "100", "--password-stdin"], input=PASSWORD + "\n", text=True, check=True,
                               capture_output=True, env=env)
                self.agents.append(f"{email}:{PASSWORD}")
            env.update({"FRONTDESK_LOG_LEVEL": "error",
                        # One machine plays every visitor, faster than people type.
                        **{f"FRONTDESK_{k}": "1000000/1s" for k in ("VISITOR_SESSION_RATE", "VISITOR_MESSAGE_RATE",
                           "VISITOR_MESSAGE_RATE_IP", "VISITOR_HELLO_RATE", "VISITOR_HELLO_RATE_IP")}})
            cmd = [FRONTDESK, "serve", "--listen", f"127.0.0.1:{self.port}"]
            ready = "/readyz"
        elif kind == "ejabberd":
            env, cmd, ready = self.ejabberd_setup(), None, None
        else:
            env, cmd, ready = None, [RELAY, f"127.0.0.1:{self.port}"], "/healthz"
        if cmd:
            self.proc = subprocess.Popen(["taskset", "-c", "0", *cmd], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_ready(self.url, ready)

    def ejabberd_setup(self):
        """ejabberd from Debian, as its own non-root user (ejabberdctl switches to it), with a
        loopback-only config in this run's temp dir: one WebSocket listener, in-band registration
        without its per-IP pause, stream management for acks, no shapers."""
        os.makedirs(f"{self.data}/spool"); os.makedirs(f"{self.data}/logs")
        with open(f"{self.data}/ejabberd.yml", "w") as f:
            f.write(f"""hosts: ["localhost"]
loglevel: warning
listen:
  - port: {self.port}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      "/ws": ejabberd_http_ws
auth_method: internal
registration_timeout: infinity
acl: {{}}
access_rules:
  register:
    allow: all
shaper: {{}}
shaper_rules: {{}}
modules:
  mod_register:
    access: register
    ip_access: all
  mod_stream_mgmt: {{}}
""")
        shutil.chown(self.data, "ejabberd", "ejabberd")
        for root, dirs, files in os.walk(self.data):
            for n in dirs + files:
                shutil.chown(os.path.join(root, n), "ejabberd", "ejabberd")
        self.node = f"bench{self.port}@localhost"
        base = ["/usr/sbin/ejabberdctl", "--config-dir", self.data, "--config", f"{self.data}/ejabberd.yml",
                "--logs", f"{self.data}/logs", "--spool", f"{self.data}/spool", "--node", self.node]
        self.ctl = base
        self.proc = subprocess.Popen(["taskset", "-c", "0", *base, "foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env={**os.environ, "HOME": self.data})
        end = time.monotonic() + 90
        while time.monotonic() < end:
            if subprocess.run([*base, "status"], capture_output=True).returncode == 0:
                # status is up a moment before the listener
                try:
                    socket.create_connection(("127.0.0.1", self.port), 1).close(); return None
                except OSError:
                    pass
            time.sleep(0.5)
        raise RuntimeError("ejabberd did not start within 90 s (see its logs dir)")

    def pid(self):
        """The process doing the work (for ejabberd, the Erlang VM under ejabberdctl/su)."""
        if self.kind != "ejabberd":
            return self.proc.pid
        out = subprocess.run(["pgrep", "-f", f"beam.*{self.node}"], capture_output=True, text=True).stdout.split()
        return int(out[0]) if out else self.proc.pid

    def stop(self):
        if self.kind == "ejabberd":
            subprocess.run([*self.ctl, "stop"], capture_output=True, timeout=60)
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill(); self.proc.wait()
        shutil.rmtree(self.data, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def loadgen(*args, timeout=900):
    """Runs the load generator on core 1; returns its JSON result lines."""
    out = subprocess.run(["taskset", "-c", "1", LOADGEN, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    lines = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        lines = [{"error": (out.stderr or out.stdout).strip()[-400:], "verdict": "FAILED"}]
    for l in lines:
        print("   ", json.dumps(l), flush=True)
    return lines


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except ValueError:
        pass
    fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    idle_ns = [n for n in IDLE if n + 100 < fd_limit]
    results = {"frontdesk": {}, "relay": {}}
    agents = (PAIRS + 99) // 100
    print(f"== rate ladder, {PAIRS} pairs, {SECONDS} s per rate", flush=True)
    kinds = ["relay", "frontdesk"] + (["ejabberd"] if HAVE_EJABBERD else [])
    for kind in kinds:
        with Server(kind, agents) as s:
            extra = ["--agents", ",".join(s.agents)] if s.agents else []
            results.setdefault(kind, {})["pairs"] = loadgen("pairs", "--target", {"ejabberd": "xmpp"}.get(kind, kind), "--url", s.url, "--pairs", PAIRS, "--rates",
                                             ",".join(map(str, RATES)), "--seconds", SECONDS, "--pid", s.pid(), *extra)
    print("== idle sockets", flush=True)
    for n in idle_ns:
        for kind, target in (("relay", "relay"), ("frontdesk", "frontdesk"), ("frontdesk", "tcp")) + ((("ejabberd", "xmpp"),) if HAVE_EJABBERD else ()):
            with Server(kind) as s:
                time.sleep(0.5)
                r = loadgen("idle", "--target", target, "--url", s.url, "--n", n, "--pid", s.pid())
                results.setdefault(f"idle-{target}", {})[n] = r[0]
    print(f"== reconnect storm, {STORM} visitors", flush=True)
    with Server("frontdesk", 1) as s:
        results["frontdesk"]["storm"] = loadgen("storm", "--url", s.url, "--n", STORM, "--agents", s.agents[0], "--pid", s.pid())[0]
    write_markdown(results, idle_ns, fd_limit)


def best_rate(rows, p99_ms=15.0):
    ok = [r for r in rows if r.get("verdict") == "ok" and r["recv_ms"]["p99"] <= p99_ms]
    return max((r["rate"] for r in ok), default=0)


def fmt(x, nd=1):
    return "–" if x is None or (isinstance(x, float) and x != x) else f"{x:.{nd}f}"


def cell(r):
    if not r:
        return "– | – | –"
    if "rate" not in r:
        return f"– | – | FAILED ({str(r.get('error', ''))[:60]})"
    return f"{fmt(r['recv_ms']['p50'], 2)} / {fmt(r['recv_ms']['p99'], 2)} | {fmt(r['server_cpu_pct'], 0)} % | {r['verdict']}"


def ejab_error(res):
    rows = res.get("ejabberd", {}).get("pairs", [])
    return next((str(r.get("error") or r.get("first_error")) for r in rows if r.get("verdict") != "ok"), None)


def write_markdown(res, idle_ns, fd_limit):
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    load = os.getloadavg()
    head = (f"{time.strftime('%Y-%m-%d')} · `benches/run.sh{' --quick' if QUICK else ''}` · {os.cpu_count()} cores "
            f"({cpu.group(1).strip() if cpu else '?'}) · load average at the end {load[0]:.1f} · open-file limit {fd_limit} · "
            f"commit {subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True, cwd=ROOT).stdout.strip()}")
    L = [head, "", f"Rate ladder: {PAIRS} visitor↔agent pairs, {SECONDS} s per rate; latency is send → the other side's socket.", "",
         "| rate msg/s | frontdesk p50 / p99 / p99.9 ms | ack p99 ms | server CPU | verdict | relay p50 / p99 ms | relay CPU | relay verdict | ejabberd p50 / p99 ms | ejabberd CPU | ejabberd verdict |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
    ejab = {r.get("rate"): r for r in res.get("ejabberd", {}).get("pairs", [])}
    relay = {r.get("rate"): r for r in res["relay"].get("pairs", [])}
    for r in res["frontdesk"].get("pairs", []):
        if "rate" not in r:
            L.append(f"| – | {r.get('error', '')[:120]} | | | FAILED | | | |")
            continue
        b = relay.get(r["rate"], {})
        bl = b.get("recv_ms", {})
        L.append(f"| {r['rate']} | {fmt(r['recv_ms']['p50'], 2)} / {fmt(r['recv_ms']['p99'], 2)} / {fmt(r['recv_ms']['p999'], 2)} | "
                 f"{fmt(r['ack_ms']['p99'], 2)} | {fmt(r['server_cpu_pct'], 0)} % | {r['verdict']}"
                 f"{'' if r['verdict'] == 'ok' else ' (lost ' + str(r['lost']) + ', dup ' + str(r['duplicates']) + ', reordered ' + str(r['reordered']) + ')'} | "
                 f"{fmt(bl.get('p50'), 2)} / {fmt(bl.get('p99'), 2)} | {fmt(b.get('server_cpu_pct'), 0)} % | {b.get('verdict', '–')} | "
                 f"{cell(ejab.get(r['rate']))} |")
    ej_best = best_rate(res.get("ejabberd", {}).get("pairs", []))
    fd_best, relay_best = best_rate(res["frontdesk"].get("pairs", [])), best_rate(res["relay"].get("pairs", []))
    L += ["", f"Highest rate with p99 ≤ 15 ms and nothing lost: frontdesk **{fd_best}** msg/s, relay {relay_best} msg/s "
          f"(ratio {fd_best / relay_best:.2f}; target ≥ 0.5, and P2 5,000)." if relay_best else
          f"Highest rate with p99 ≤ 15 ms and nothing lost: frontdesk **{fd_best}** msg/s; the relay had no passing rate.",
          "", (f"ejabberd's highest such rate: {ej_best} msg/s (frontdesk / ejabberd = {fd_best / ej_best:.2f}; target ≥ 2)." if ej_best else
               "ejabberd: " + (ejab_error(res) or "no passing rate") + "."),
          "", "| idle sockets | frontdesk KiB/socket | relay KiB/socket | ejabberd KiB/socket | idle TCP KiB/conn | frontdesk / relay | frontdesk / ejabberd (target ≤ 0.6) |", "|---|---|---|---|---|---|---|"]
    for n in idle_ns:
        f = res.get("idle-frontdesk", {}).get(n, {}).get("kib_per_socket")
        r = res.get("idle-relay", {}).get(n, {}).get("kib_per_socket")
        t = res.get("idle-tcp", {}).get(n, {}).get("kib_per_socket")
        e = res.get("idle-xmpp", {}).get(n, {}).get("kib_per_socket")
        L.append(f"| {n} | {fmt(f)} | {fmt(r)} | {fmt(e)} | {fmt(t)} | {fmt(f / r, 2) if f and r else '–'} | {fmt(f / e, 2) if f and e else '–'} |")
    s = res["frontdesk"].get("storm", {})
    L += ["", f"Reconnect storm: {STORM} visitors with a stored message drop at once and resume: all back in "
          f"**{fmt(s.get('all_resumed_s'), 2)} s** (p99 {fmt(s.get('resume_ms', {}).get('p99'), 0)} ms), lost {s.get('lost', '–')}, "
          f"verdict {s.get('verdict', '–')}{' — ' + str(s.get('error') or s.get('first_error')) if s.get('verdict') != 'ok' else ''}.",
          ] + ([] if HAVE_EJABBERD else ["", "ejabberd: not installed or not run as root (run.sh installs the Debian package)."])
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read()
    block = "<!-- run.sh -->\n" + "\n".join(L) + "\n<!-- /run.sh -->"
    if "<!-- run.sh -->" in text:
        text = re.sub(r"<!-- run\.sh -->.*?<!-- /run\.sh -->", lambda _: block, text, flags=re.S)
    else:
        text += "\n## P1–P4 — sockets, throughput, reconnect (`benches/run.sh`)\n\n" + block + "\n"
    open(path, "w").write(text)
    print("\n".join(L))


if __name__ == "__main__":
    main()
