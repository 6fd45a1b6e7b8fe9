#!/usr/bin/env bash
# One online backup of the fieldproof database, then retention. Run by fieldproof-backup.service
# (daily, from fieldproof-backup.timer) as the fieldproof user with /etc/fieldproof/fieldproof.env
# loaded. For a backup now, start the same unit (same user, settings and sandbox):
#
#   sudo systemctl start fieldproof-backup && journalctl -u fieldproof-backup -n 20
#
# 1. `fieldproof backup --out <backups>/fieldproof-<UTC timestamp>.sqlite3`: a consistent copy of
#    the live database (the API and keeper keep running), verified with PRAGMA integrity_check
#    before it is put in place. Never `cp` a live WAL database: see README.md.
# 2. Keeps the newest FIELDPROOF_BACKUP_KEEP (default 7) files named like that; anything else in
#    the folder (a backup you renamed or copied there) is never touched. Nothing is pruned when
#    the backup failed.
#
# Settings (environment):
#   FIELDPROOF_DATA_DIR    data folder; backups go to $FIELDPROOF_DATA_DIR/backups
#                          (default /var/lib/fieldproof)
#   FIELDPROOF_BACKUP_DIR  the backup folder itself, if elsewhere (e.g. a USB disk mounted
#                          writable for the service)
#   FIELDPROOF_BACKUP_KEEP how many scheduled backups to keep (default 7, at least 1)
#   FIELDPROOF_HOME        where fieldproof is installed (default /opt/fieldproof)
#   FIELDPROOF_NODE        node binary (default: node on PATH)
# The database is the one the services use (API_DB_URL, else KEEPER_DB_URL).
set -euo pipefail

log() { printf 'fieldproof-backup: %s\n' "$*"; }
die() {
  printf 'fieldproof-backup: error: %s\n' "$*" >&2
  exit 1
}

home=${FIELDPROOF_HOME:-/opt/fieldproof}
node_bin=${FIELDPROOF_NODE:-$(command -v node || true)}
data_dir=${FIELDPROOF_DATA_DIR:-/var/lib/fieldproof}
backup_dir=${FIELDPROOF_BACKUP_DIR:-$data_dir/backups}
keep=${FIELDPROOF_BACKUP_KEEP:-7}
cli="$home/packages/cli/bin/fieldproof.js"

[[ -n "$node_bin" && -x "$node_bin" ]] || die "node not found (set FIELDPROOF_NODE)"
[[ -f "$cli" ]] || die "$cli not found (set FIELDPROOF_HOME)"
[[ "$keep" =~ ^[0-9]+$ && "$keep" -ge 1 ]] || die "FIELDPROOF_BACKUP_KEEP must be a whole number >= 1 (got '$keep')"

umask 077
mkdir -p -- "$backup_dir"

# Same name format as the keeper's scheduled backups (KEEPER_CRON_BACKUP), so both sort by time
# and share one retention rule: fieldproof-20250131T030000.123Z.sqlite3
stamp=$(date -u +%Y%m%dT%H%M%S.%3NZ)
out="$backup_dir/fieldproof-$stamp.sqlite3"

log "backing up to $out"
started=$(date +%s)
"$node_bin" "$cli" backup --out "$out"
[[ -s "$out" ]] || die "fieldproof backup exited 0 but $out is missing or empty"
log "done in $(($(date +%s) - started)) s ($(stat -c %s -- "$out") bytes)"

# Retention: names sort by time; keep the newest $keep.
mapfile -t backups < <(
  find "$backup_dir" -maxdepth 1 -type f -regextype posix-extended \
    -regex '.*/fieldproof-[0-9]{8}T[0-9]{6}\.[0-9]{3}Z\.sqlite3' -printf '%f\n' | LC_ALL=C sort
)
excess=$((${#backups[@]} - keep))
for ((i = 0; i < excess; i++)); do
  rm -f -- "${backup_dir:?}/${backups[i]}"
  log "pruned ${backups[i]}"
done
log "$((${#backups[@]} - (excess > 0 ? excess : 0))) backup(s) kept in $backup_dir (FIELDPROOF_BACKUP_KEEP=$keep)"
