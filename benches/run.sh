#!/usr/bin/env bash
# SPEC §10 in one run: frontdesk vs a bare actix-ws relay (see benches/run.py).
#   benches/run.sh           the full ladder, 2k/10k/20k idle sockets, 10k reconnect storm
#   benches/run.sh --quick   the regression mode (≤ 3 minutes): ratios, not the targets
set -euo pipefail
cd "$(dirname "$0")/.."
command -v taskset >/dev/null || { echo "run.sh needs taskset (util-linux)" >&2; exit 2; }
if [ "$(id -u)" = 0 ] && ! [ -x /usr/sbin/ejabberdctl ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ejabberd >/dev/null; fi
cargo build --release --quiet -p frontdesk -p loadgen -p relay
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec python3 benches/run.py "$@"
