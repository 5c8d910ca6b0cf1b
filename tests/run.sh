#!/usr/bin/env bash
# The one test command (SPEC §1): installs what the suites need (idempotent), rebuilds the web
# assets and fails if the committed web/dist is stale, then runs every suite. The last line is
# the summary `N passed, N failed`. Style (rustfmt, clippy -D warnings, svelte-check) counts as suites.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG_DIR="${TEST_LOG_DIR:-$ROOT/target/test-logs}"
mkdir -p "$LOG_DIR"
export CARGO_TERM_COLOR=never NO_COLOR=1

passed=0
failed=0
failures=()
note() { printf '\n=== %s\n' "$*"; }
record() { # suite passed failed
  passed=$((passed + $2)); failed=$((failed + $3))
  if [ "$3" -gt 0 ]; then failures+=("$1"); fi
  printf -- '--- %s: %s passed, %s failed\n' "$1" "$2" "$3"
}
# A suite that could not even run counts as one failure, so a broken step is never silent.
broken() { failed=$((failed + 1)); failures+=("$1 (did not run: $2)"); printf -- '--- %s: did not run: %s\n' "$1" "$2"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }

install_system_packages() {
  # python3-aiosmtpd: the real SMTP server the mail tests start (tests/support/smtp_sink.py).
  # dovecot-imapd: the IMAP fetcher test starts its own Dovecot (tests/api/imap.rs); openssl makes its certificates.
  # sqlite3: web/e2e/mailsettings.test.mjs moves a link's expiry into the past.
  local want=(chromium python3-aiosmtpd dovecot-imapd openssl sqlite3) missing=()
  for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    note "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_node_modules() {
  # npm ci only when the lockfile changed since the last install.
  local stamp=web/node_modules/.lock-hash hash
  hash=$(sha256sum web/package-lock.json | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
    note "installing npm packages"
    (cd web && npm ci --no-audit --no-fund --loglevel=error) && echo "$hash" > "$stamp"
  fi
}

note "dependencies"
install_system_packages || broken "apt" "could not install Debian packages"
# Debian's interpreter, which has python3-aiosmtpd (a python3 earlier on PATH may not).
if [ -x /usr/bin/python3 ]; then export FRONTDESK_TEST_PYTHON=/usr/bin/python3; fi
install_node_modules || broken "npm" "npm ci failed"

note "web build (must match the committed web/dist)"
if (cd web && npm run --silent build) > "$LOG_DIR/web-build.log" 2>&1; then
  cat "$LOG_DIR/web-build.log" | grep -E 'gzip|built in' || true
  stale=$(git status --porcelain -- web/dist)
  if [ -n "$stale" ]; then
    echo "$stale"
    broken "web/dist" "committed web/dist differs from a fresh build; run 'cd web && npm run build' and commit"
  else
    record "web/dist is fresh" 1 0
  fi
else
  tail -30 "$LOG_DIR/web-build.log"
  broken "web build" "npm run build failed"
fi

note "style: rustfmt, clippy (-D warnings), svelte-check"
style_step() { # name, command...
  local name=$1; shift
  if "$@" > "$LOG_DIR/$name.log" 2>&1; then record "$name" 1 0; else tail -30 "$LOG_DIR/$name.log"; record "$name" 0 1; fi
}
style_step "cargo fmt --check" cargo fmt --check
style_step "cargo clippy" cargo clippy --locked --all-targets -- -D warnings
style_step "svelte-check" bash -c 'cd web && npx svelte-check --tsconfig ./tsconfig.json --fail-on-warnings'

note "Rust unit and integration tests"
cargo test --locked > "$LOG_DIR/cargo.log" 2>&1
rc=$?
grep -E '^test result|FAILED|panicked' "$LOG_DIR/cargo.log" || true
read -r p f < <(awk '/^test result/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p+0, f+0 }' "$LOG_DIR/cargo.log")
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
  tail -40 "$LOG_DIR/cargo.log"
  record "cargo test" "$p" 0
  broken "cargo test" "cargo exited $rc (build error?)"
else
  record "cargo test" "$p" "$f"
fi

note "crash loop (SPEC S1): SIGKILL the server 10 times under chat load"
# Needs the debug binary cargo test just built, and the websockets package for Python.
if ! python3 -c 'import websockets' 2>/dev/null; then
  pip install --quiet websockets > "$LOG_DIR/pip.log" 2>&1 || pip install --quiet --break-system-packages websockets >> "$LOG_DIR/pip.log" 2>&1
fi
if [ ! -x target/debug/frontdesk ]; then
  broken "crash loop" "no server binary at target/debug/frontdesk"
elif ! python3 -c 'import websockets' 2>/dev/null; then
  broken "crash loop" "could not install the Python websockets package (see $LOG_DIR/pip.log)"
else
  timeout 600 python3 benches/crash_loop.py --kills 10 --binary target/debug/frontdesk > "$LOG_DIR/crash-loop.log" 2>&1
  tail -3 "$LOG_DIR/crash-loop.log"
  read -r p f < <(sed -nE 's/^crash loop: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$LOG_DIR/crash-loop.log")
  if [ -n "${p:-}" ] && [ -n "${f:-}" ]; then record "crash loop" "$p" "$f"; else broken "crash loop" "runner failed"; fi
fi

note "front-end unit tests (vitest)"
if (cd web && npx vitest run --reporter=default --reporter=json --outputFile="$LOG_DIR/vitest.json") > "$LOG_DIR/vitest.log" 2>&1 || [ -s "$LOG_DIR/vitest.json" ]; then
  tail -5 "$LOG_DIR/vitest.log"
  read -r p f < <(node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, r.numFailedTests + (r.numFailedTestSuites||0))' "$LOG_DIR/vitest.json")
  record "vitest" "$p" "$f"
else
  tail -30 "$LOG_DIR/vitest.log"
  broken "vitest" "runner failed"
fi

note "browser end-to-end tests (Chromium via playwright-core)"
export FRONTDESK_BIN="$ROOT/target/debug/frontdesk" E2E_SCREENSHOT_DIR="$LOG_DIR/screenshots"
if [ -x "$FRONTDESK_BIN" ]; then
  (cd web && node --test --test-reporter=tap e2e/) > "$LOG_DIR/e2e.log" 2>&1
  grep -E '^# (pass|fail)|^not ok' "$LOG_DIR/e2e.log" || true
  p=$(grep -E '^# pass' "$LOG_DIR/e2e.log" | awk '{print $3}')
  f=$(grep -E '^# fail' "$LOG_DIR/e2e.log" | awk '{print $3}')
  if [ -n "$p" ] && [ -n "$f" ]; then record "e2e" "$p" "$f"; else tail -30 "$LOG_DIR/e2e.log"; broken "e2e" "runner failed"; fi
else
  broken "e2e" "no server binary at $FRONTDESK_BIN"
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
  echo "failing: ${failures[*]}"
  echo "logs: $LOG_DIR"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
