#!/usr/bin/env bash
# `fieldproof` for operators of an installed unit: runs the CLI exactly as the services run it —
# as the fieldproof user, with /etc/fieldproof/fieldproof.env, in /var/lib/fieldproof — so files
# it creates (keys, backups, a restored database) get the right owner and mode.
# install.sh installs it as /usr/local/bin/fieldproof (with its node path and prefix filled in).
#
#   sudo fieldproof migrate status
#   sudo fieldproof keys create --scopes read,write
#   sudo fieldproof backup --out /var/lib/fieldproof/backups/manual.sqlite3
#
# The working directory is /var/lib/fieldproof: give files as absolute paths.
set -euo pipefail

node_bin=${FIELDPROOF_NODE:-/usr/bin/node}
home=${FIELDPROOF_HOME:-/opt/fieldproof}
env_file=${FIELDPROOF_ENV_FILE:-/etc/fieldproof/fieldproof.env}
state_dir=/var/lib/fieldproof
service_user=fieldproof

die() {
  printf 'fieldproof: %s\n' "$*" >&2
  exit 1
}

[[ -r "$env_file" ]] || die "cannot read $env_file (run with sudo)"
[[ -x "$node_bin" ]] || die "$node_bin not found (set FIELDPROOF_NODE)"

# The same KEY=value lines systemd's EnvironmentFile= reads (comments, blank lines, optional
# "export", values optionally in single or double quotes).
settings=()
while IFS= read -r line || [[ -n "$line" ]]; do
  line="${line#"${line%%[![:space:]]*}"}"
  [[ -z "$line" || "$line" == \#* || "$line" == \;* ]] && continue
  [[ "$line" =~ ^(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
  name=${BASH_REMATCH[2]}
  value=${BASH_REMATCH[3]}
  value="${value%"${value##*[![:space:]]}"}"
  if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
  settings+=("$name=$value")
done <"$env_file"

if [[ $(id -u) -eq 0 ]]; then
  as_user=(runuser -u "$service_user" --)
elif [[ $(id -un) == "$service_user" ]]; then
  as_user=()
else
  die "run as root (sudo fieldproof ...) so the command runs as the $service_user user"
fi
cd "$state_dir"
umask 077
exec "${as_user[@]}" env -i "PATH=/usr/local/bin:/usr/bin:/bin" "HOME=$state_dir" "NODE_ENV=production" \
  "${settings[@]}" "$node_bin" "$home/packages/cli/bin/fieldproof.js" "$@"
