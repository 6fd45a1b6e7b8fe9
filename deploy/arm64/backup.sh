#!/usr/bin/env bash
# One online backup of the fieldproof database, then retention. Run by fieldproof-backup.service
# (daily, from fieldproof-backup.timer) as the fieldproof user with /etc/fieldproof/fieldproof.env
# loaded. For a backup now, start the same unit (same user, settings and sandbox):
#
#   sudo systemctl start fieldproof-backup && journalctl -u fieldproof-backup -n 20
#
# `fieldproof backup --dir <backups> --keep N`: one archive, <backups>/fieldproof-<UTC time>.tar (mode
# 0600), holding a consistent snapshot of the live database (the API and keeper keep running; checked
# with PRAGMA integrity_check), every content file it references and the device key — the PRIVATE key:
# copy backups off the device as carefully as the key itself. Then it keeps the newest N backups named
# like that (manual `fieldproof backup` and KEEPER_CRON_BACKUP archives use the same names, so one
# retention covers all; older fieldproof-<UTC time>.sqlite3 backups count too). Anything else in the
# folder is never touched; nothing is pruned when the backup failed. Never `cp` a live WAL database.
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

log "backing up into $backup_dir"
started=$(date +%s)
"$node_bin" "$cli" backup --dir "$backup_dir" --keep "$keep"
log "done in $(($(date +%s) - started)) s (FIELDPROOF_BACKUP_KEEP=$keep)"
