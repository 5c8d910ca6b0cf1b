#!/usr/bin/env bash
# SPEC §10 (P1–P6) in one run: frontdesk vs a bare actix-ws relay vs ejabberd (see benches/run.py).
#   benches/run.sh           the full ladder (500 pairs, 1,000 → 10,000 msg/s), 2k/10k/20k idle
#                            sockets, a 10k reconnect storm, cold start, the 100,000-ticket desk
#                            (≈ 10–25 min)
#   benches/run.sh --quick   the regression mode (≤ 3 minutes): ratios, not the targets
# Writes the table between the <!-- run.sh --> markers of BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v taskset >/dev/null || { echo "run.sh needs taskset (util-linux)" >&2; exit 2; }
if [ "$(id -u)" = 0 ] && ! [ -x /usr/sbin/ejabberdctl ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ejabberd >/dev/null; fi
start=$SECONDS
cargo build --release --quiet -p frontdesk -p loadgen -p relay
echo "build: $((SECONDS - start)) s"
# As many open files as allowed (run.py tries beyond the hard limit too; that needs CAP_SYS_RESOURCE).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
python3 benches/run.py "$@"
echo "run.sh: $((SECONDS - start)) s in all, build included"
