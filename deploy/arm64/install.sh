#!/usr/bin/env bash
# Installs (or upgrades) fieldproof as systemd services on an arm64 (or any) Linux unit.
# Run from a checkout that has been built on this machine:
#
#   git clone … fieldproof && cd fieldproof
#   npm ci && npm run build                       # builds better-sqlite3 for this CPU
#   sudo bash deploy/arm64/install.sh --start
#
# What it does (each step only when something is missing or different; re-running changes
# nothing, and says so):
#   1. checks: root, node >= 22 (24 LTS tested), rsync, a built checkout whose better-sqlite3 loads on this machine
#   2. system user and group `fieldproof` (no login shell, no home folder created)
#   3. /var/lib/fieldproof (0700) and its backups/ (0700), owned by fieldproof;
#      /etc/fieldproof (0750 root:fieldproof); /etc/fieldproof/fieldproof.env from the template,
#      only if absent (0640 root:fieldproof)
#   4. copies the built app to the prefix (default /opt/fieldproof, root-owned, read-only for the
#      services; dev-only dependencies, sources and tests left out). Running services are stopped
#      first and started again afterwards when the copy changes anything.
#   5. /usr/local/bin/fieldproof: the CLI as the fieldproof user with the env file (sudo fieldproof …)
#   6. `fieldproof migrate` as the fieldproof user
#   7. units to /etc/systemd/system (node path and prefix filled in), daemon-reload if changed,
#      enable fieldproof-api, fieldproof-keeper and fieldproof-backup.timer (and start them with
#      --start)
#
# Options:
#   --prefix DIR   install the app here (default /opt/fieldproof)
#   --node PATH    node binary the units run (default: node on PATH)
#   --source DIR   built checkout to install from (default: the checkout this script is in)
#   --no-enable    install everything but do not enable the units
#   --start        also start the services and the backup timer (no-op if already running)
#   --dry-run      print what would be done, change nothing (may run without root)
#   -h, --help
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd -- "$script_dir/../.." && pwd)
prefix=/opt/fieldproof
node_bin=
enable=1
start=0
dry_run=0

service_user=fieldproof
state_dir=/var/lib/fieldproof
conf_dir=/etc/fieldproof
env_file=$conf_dir/fieldproof.env
unit_dir=/etc/systemd/system
cli_link=/usr/local/bin/fieldproof
units=(fieldproof-api.service fieldproof-keeper.service fieldproof-backup.service fieldproof-backup.timer)
services=(fieldproof-api.service fieldproof-keeper.service)

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
die() {
  printf 'install.sh: error: %s\n' "$*" >&2
  exit 1
}

while (($#)); do
  case $1 in
  --prefix) prefix=${2:?--prefix needs a folder} && shift ;;
  --prefix=*) prefix=${1#*=} ;;
  --node) node_bin=${2:?--node needs a path} && shift ;;
  --node=*) node_bin=${1#*=} ;;
  --source) source_dir=${2:?--source needs a folder} && shift ;;
  --source=*) source_dir=${1#*=} ;;
  --no-enable) enable=0 ;;
  --start) start=1 ;;
  --dry-run | -n) dry_run=1 ;;
  -h | --help) usage && exit 0 ;;
  *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done

changed=0
step() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf '    warning: %s\n' "$*" >&2; }
# Every change goes through run(): printed, and only printed with --dry-run.
run() {
  changed=1
  if ((dry_run)); then
    printf '    [dry-run] would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    printf '    +'
    printf ' %q' "$@"
    printf '\n'
    "$@"
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT
systemd_running=0
[[ -d /run/systemd/system ]] && systemd_running=1

# ---------------------------------------------------------------------------------------------
step "checks"
if [[ $(id -u) -ne 0 ]]; then
  ((dry_run)) || die "run as root (sudo bash $0 …)"
  info "not root: --dry-run only reports"
fi
[[ "$prefix" == /* && "$prefix" != / ]] || die "--prefix must be an absolute folder other than / (got '$prefix')"
prefix=${prefix%/}
[[ -d "$source_dir" ]] || die "source folder $source_dir does not exist"
source_dir=$(cd -- "$source_dir" && pwd)
if [[ -z "$node_bin" ]]; then
  node_bin=$(command -v node || true)
  [[ -n "$node_bin" ]] || die "node not found: install Node.js 24 LTS (NodeSource node_24.x, the nodejs.org arm64 build, or scripts/node24.sh), or pass --node PATH"
fi
[[ "$node_bin" == /* ]] || node_bin=$(command -v -- "$node_bin" || true)
[[ -n "$node_bin" && -x "$node_bin" ]] || die "node binary '$node_bin' is not executable"
node_version=$("$node_bin" -p 'process.versions.node')
((${node_version%%.*} >= 22)) || die "node $node_version at $node_bin is too old: fieldproof needs >= 22 (24 LTS is the tested line)"
((${node_version%%.*} == 24)) || warn "node $node_version: fieldproof is tested on Node 24 LTS (22 is supported, not what CI runs)"
info "node $node_version ($node_bin, $("$node_bin" -p 'process.platform + "/" + process.arch'))"
command -v rsync >/dev/null || die "rsync not found (apt-get install rsync)"
command -v runuser >/dev/null || die "runuser not found (util-linux)"
command -v systemctl >/dev/null || die "systemctl not found: these units need systemd"

same_tree=0
[[ -d "$prefix" && "$(cd -- "$prefix" && pwd -P)" == "$(cd -- "$source_dir" && pwd -P)" ]] && same_tree=1
for f in package.json package-lock.json packages/cli/bin/fieldproof.js packages/cli/dist/index.js \
  apps/api/dist/index.js apps/keeper/dist/index.js \
  migrations node_modules/better-sqlite3/package.json; do
  [[ -e "$source_dir/$f" ]] || die "$source_dir/$f is missing: build first (cd $source_dir && npm ci && npm run build)"
done
# A checkout built on another machine (say x86-64) has a better-sqlite3 for the wrong CPU.
if ! addon_error=$("$node_bin" -e 'require(process.argv[1])(":memory:").close()' \
  "$source_dir/node_modules/better-sqlite3" 2>&1); then
  die "better-sqlite3 in $source_dir does not load with this node (built for another CPU or node version?): run 'npm rebuild better-sqlite3' there. ${addon_error##*Error: }"
fi
info "source: $source_dir (better-sqlite3 loads)"
info "prefix: $prefix"

# ---------------------------------------------------------------------------------------------
step "user and group '$service_user'"
nologin=/usr/sbin/nologin
[[ -x $nologin ]] || nologin=/sbin/nologin
[[ -x $nologin ]] || nologin=/bin/false
if ! getent group "$service_user" >/dev/null; then
  run groupadd --system "$service_user"
fi
if ! getent passwd "$service_user" >/dev/null; then
  run useradd --system --gid "$service_user" --home-dir "$state_dir" --no-create-home \
    --shell "$nologin" --comment "fieldproof evidence recorder" "$service_user"
else
  info "exists: $(getent passwd "$service_user")"
fi

# ---------------------------------------------------------------------------------------------
# ensure_dir PATH MODE OWNER GROUP: create, or fix mode/ownership only where they differ.
ensure_dir() {
  local path=$1 mode=$2 owner=$3 group=$4 have
  if [[ ! -d "$path" ]]; then
    run install -d -m "$mode" -o "$owner" -g "$group" "$path"
    return
  fi
  have=$(stat -c '%a %U %G' -- "$path")
  if [[ "$have" != "${mode#0} $owner $group" ]]; then
    run chown "$owner:$group" "$path"
    run chmod "$mode" "$path"
  else
    info "ok: $path ($have)"
  fi
}
step "folders"
ensure_dir "$state_dir" 0700 "$service_user" "$service_user"
ensure_dir "$state_dir/backups" 0700 "$service_user" "$service_user"
ensure_dir "$conf_dir" 0750 root "$service_user"

step "settings: $env_file"
if [[ ! -e "$env_file" ]]; then
  run install -m 0640 -o root -g "$service_user" "$script_dir/fieldproof.env.example" "$env_file"
  info "review it before starting: API_HOST, KEEPER_PROVIDER/KEEPER_CHAINS, KEEPER_SIGNER_KEY_FILE"
else
  have=$(stat -c '%a %U %G' -- "$env_file")
  if [[ "$have" != "640 root $service_user" ]]; then
    run chown "root:$service_user" "$env_file"
    run chmod 0640 "$env_file"
  else
    info "kept (exists, $have)"
  fi
  # Settings a newer template documents that this file does not mention at all.
  missing=()
  while IFS= read -r name; do
    grep -Eq "^[#[:space:]]*${name}=" "$env_file" || missing+=("$name")
  done < <(grep -Eo '^[#]?[A-Z][A-Z0-9_]*=' "$script_dir/fieldproof.env.example" | tr -d '#=' | sort -u)
  ((${#missing[@]} == 0)) || info "not mentioned in your file (defaults apply; see the template): ${missing[*]}"
fi

# ---------------------------------------------------------------------------------------------
step "application: $source_dir -> $prefix"
restart_after=()
if ((same_tree)); then
  info "running from the installed tree: nothing to copy"
else
  # What the services need: package manifests, dist/, bin/, migrations/, deploy/, and
  # node_modules without dev-only packages (as npm prune --omit=dev would leave it).
  "$node_bin" -e '
    const lock = require(process.argv[1]);
    for (const [key, meta] of Object.entries(lock.packages ?? {}))
      if (key.includes("node_modules/") && meta.dev === true && !meta.link) console.log("/" + key + "/");
  ' "$source_dir/package-lock.json" >"$tmp/dev-only.exclude"
  cat >"$tmp/app.filter" <<'EOF'
- /.git/
- /.github/
- /.ci/
- /.tmp/
- /bench/
- /coverage/
- /fieldproof-data/
- /test/
- /docs/
- /packages/*/src/
- /packages/*/test/
- /apps/*/src/
- /apps/*/test/
- /node_modules/.bin/
- /node_modules/.cache/
- /node_modules/better-sqlite3/deps/
- /node_modules/better-sqlite3/src/
- /node_modules/better-sqlite3/build/Release/obj/
- /node_modules/better-sqlite3/build/Release/obj.target/
- /node_modules/better-sqlite3/build/Release/.deps/
- *.tsbuildinfo
- *.sqlite3
- *.sqlite3-*
EOF
  modes='u+rwX,go+rX,go-w' # root-owned, readable by the services, writable by nobody else
  rsync_args=(-a --delete --delete-excluded --chown=root:root --chmod="$modes"
    --filter="merge $tmp/app.filter" --exclude-from="$tmp/dev-only.exclude")
  plan=$(rsync "${rsync_args[@]}" --dry-run --itemize-changes "$source_dir/" "$prefix/")
  if [[ -z "$plan" ]]; then
    info "up to date"
  else
    info "$(wc -l <<<"$plan") path(s) to add, update or remove"
    if ((systemd_running)); then
      for ((i = ${#services[@]} - 1; i >= 0; i--)); do
        if systemctl is-active --quiet "${services[i]}"; then
          run systemctl stop "${services[i]}"
          restart_after=("${services[i]}" "${restart_after[@]}")
        fi
      done
    fi
    [[ -d "$prefix" ]] || run install -d -m 0755 -o root -g root "$prefix"
    run rsync "${rsync_args[@]}" "$source_dir/" "$prefix/"
  fi
fi

# ---------------------------------------------------------------------------------------------
# render TEMPLATE: the file with this install's node path and prefix filled in.
render() {
  local text
  text=$(<"$1")
  text=${text//\/opt\/fieldproof/$prefix}
  text=${text//\/usr\/bin\/node/$node_bin}
  printf '%s\n' "$text"
}
# place TEMPLATE DEST MODE: install the rendered template when DEST differs; returns 0 if changed.
place() {
  local rendered
  rendered="$tmp/$(basename -- "$2")"
  render "$1" >"$rendered"
  if [[ -f "$2" ]] && cmp -s -- "$rendered" "$2"; then
    info "ok: $2"
    return 1
  fi
  run install -m "$3" -o root -g root "$rendered" "$2"
  return 0
}

step "command: $cli_link"
place "$script_dir/fieldproof-cli.sh" "$cli_link" 0755 || true

step "database migrations (as $service_user)"
if ((dry_run)); then
  run "$cli_link" migrate
else
  "$cli_link" migrate | sed 's/^/    /'
fi

# ---------------------------------------------------------------------------------------------
step "systemd units: $unit_dir"
units_changed=()
for unit in "${units[@]}"; do
  if place "$script_dir/$unit" "$unit_dir/$unit" 0644; then units_changed+=("$unit"); fi
done
if ((${#units_changed[@]})); then
  if ((systemd_running)); then
    run systemctl daemon-reload
    for unit in "${units_changed[@]}"; do
      [[ " ${services[*]} " == *" $unit "* ]] || continue
      [[ " ${restart_after[*]} " == *" $unit "* ]] && continue
      systemctl is-active --quiet "$unit" && restart_after+=("$unit")
    done
  else
    info "systemd is not running here (chroot or image build): units take effect at next boot"
  fi
fi

if ((enable)); then
  step "enable"
  for unit in "${services[@]}" fieldproof-backup.timer; do
    if systemctl is-enabled --quiet "$unit" 2>/dev/null; then
      info "enabled: $unit"
    else
      run systemctl enable "$unit"
    fi
  done
fi

if ((systemd_running)) && ((${#restart_after[@]} || start)); then
  step "start"
  for unit in "${services[@]}" fieldproof-backup.timer; do
    if [[ " ${restart_after[*]} " == *" $unit "* ]]; then
      run systemctl restart "$unit"
    elif ((start)) && ! systemctl is-active --quiet "$unit"; then
      run systemctl start "$unit"
    elif ((start)); then
      info "running: $unit"
    fi
  done
fi

# ---------------------------------------------------------------------------------------------
if ((dry_run && changed)); then
  step "dry run: the steps marked 'would run' above are what a real run would do"
elif ((dry_run)); then
  step "dry run: nothing to do, the installation is current"
elif ((changed)); then
  step "done"
else
  step "nothing changed: the installation is current"
fi
cat <<EOF
    status:   systemctl status fieldproof-api fieldproof-keeper; systemctl list-timers fieldproof-backup.timer
    logs:     journalctl -u fieldproof-api -u fieldproof-keeper -f
    settings: $env_file (then: systemctl restart fieldproof-api fieldproof-keeper)
    API key:  sudo fieldproof keys create --scopes read,write
EOF
