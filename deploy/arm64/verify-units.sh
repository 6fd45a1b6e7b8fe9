#!/usr/bin/env bash
# Checks the systemd units in deploy/arm64 with `systemd-analyze verify` on any machine (CI, a
# laptop), where /opt/fieldproof and maybe /usr/bin/node do not exist: verify refuses a unit whose
# ExecStart= binary is missing. So it verifies copies in a temporary root, with the install paths
# rewritten to files that exist there:
#   /opt/fieldproof/...  ->  $tmp/opt/fieldproof/...  (backup.sh copied, the CLI entry a stub)
#   /usr/bin/node        ->  this machine's node, or a stub executable when there is none
#   /etc/fieldproof/...  ->  $tmp/etc/fieldproof/...  (the env template)
# Everything else (names, ordering, hardening directives, the timer) is verified as shipped.
# Also prints the offline exposure score (`systemd-analyze security --offline`) of each service.
#
#   bash deploy/arm64/verify-units.sh      # exit 0 = every unit verified cleanly
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
command -v systemd-analyze >/dev/null || {
  echo "verify-units: systemd-analyze not found (apt-get install systemd)" >&2
  exit 2
}

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
root="$tmp/root"
mkdir -p "$root/opt/fieldproof/deploy/arm64" "$root/opt/fieldproof/packages/cli/bin" \
  "$root/opt/fieldproof/apps/api/dist" "$root/opt/fieldproof/apps/keeper/dist" \
  "$root/etc/fieldproof" "$root/usr/bin" "$tmp/units"
install -m 0755 "$here/backup.sh" "$root/opt/fieldproof/deploy/arm64/backup.sh"
for f in packages/cli/bin/fieldproof.js apps/api/dist/index.js apps/keeper/dist/index.js; do
  printf '// stub for verify-units.sh\n' >"$root/opt/fieldproof/$f"
done
install -m 0640 "$here/fieldproof.env.example" "$root/etc/fieldproof/fieldproof.env"
node_bin=$(command -v node || true)
if [[ -z "$node_bin" ]]; then
  node_bin="$root/usr/bin/node"
  printf '#!/bin/sh\nexit 0\n' >"$node_bin"
  chmod 0755 "$node_bin"
fi

units=()
for src in "$here"/*.service "$here"/*.timer; do
  name=$(basename -- "$src")
  sed -e "s|/opt/fieldproof|$root/opt/fieldproof|g" \
    -e "s|/usr/bin/node|$node_bin|g" \
    -e "s|/etc/fieldproof/|$root/etc/fieldproof/|g" "$src" >"$tmp/units/$name"
  units+=("$tmp/units/$name")
done

echo "verify-units: systemd $(systemd-analyze --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'), ${#units[@]} units"
# verify prints problems on stderr and may still exit 0 for some of them: any output is a failure.
out=$(cd "$tmp/units" && systemd-analyze verify --man=no "${units[@]}" 2>&1) && rc=0 || rc=$?
if [[ $rc -ne 0 || -n "$out" ]]; then
  printf '%s\n' "$out" | sed "s|$tmp/units/||g; s|$root||g" >&2
  echo "verify-units: FAILED (exit $rc)" >&2
  exit 1
fi
for unit in "${units[@]}"; do printf '  ok  %s\n' "$(basename -- "$unit")"; done

# Exposure score of the hardening (0 = fully locked down, 10 = unprotected); informational.
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
  for unit in "$tmp"/units/*.service; do
    score=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>/dev/null |
      sed -n 's/.*Overall exposure level for .*: \([0-9.]* [A-Z]*\).*/\1/p' | tail -1)
    printf '  exposure %-26s %s\n' "$(basename -- "$unit")" "${score:-n/a}"
  done
fi
echo "verify-units: all units verified"
