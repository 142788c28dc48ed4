#!/usr/bin/env bash
# Installs Budgie from this checkout (after `make build`):
#   $PREFIX/lib/budgie   dist/, proto/, package.json and the production node_modules
#   $PREFIX/bin/budgie   a launcher
#   /etc/budgie/config.yaml (commented defaults; an existing one is never touched)
#   /var/lib/budgie, /var/log/budgie, and on Linux a systemd unit for `budgie agent`
# Every path lives under $DESTDIR (empty by default), so tests install into a temp root.
#
# Usage: ./install.sh [--start] [--uninstall]
#   PREFIX=/usr/local DESTDIR= ./install.sh
#   --start       enable and start budgie-agent.service (Linux with systemd, DESTDIR empty)
#   --uninstall   remove what install.sh installed; keeps the config, state and logs
set -euo pipefail

PREFIX="${PREFIX:-/usr/local}"
DESTDIR="${DESTDIR:-}"
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
UNIT_NAME=budgie-agent.service
MIN_NODE_MAJOR=20

die() {
	echo "install.sh: $*" >&2
	exit 1
}
say() { echo "install.sh: $*"; }

START=no
UNINSTALL=no
for arg in "$@"; do
	case "$arg" in
	--start) START=yes ;;
	--uninstall) UNINSTALL=yes ;;
	-h | --help)
		sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown argument '$arg' (expected --start, --uninstall or --help)" ;;
	esac
done

case "$(uname -s)" in
Linux) PLATFORM=linux ;;
Darwin) PLATFORM=darwin ;;
*) die "unsupported platform '$(uname -s)': Linux and macOS only (install.ps1 is planned for Windows)" ;;
esac
case "$PREFIX" in
/*) ;;
*) die "PREFIX: expected an absolute path, got '$PREFIX'" ;;
esac

BIN_DIR="$DESTDIR$PREFIX/bin"
LIB_DIR="$DESTDIR$PREFIX/lib/budgie"
CONF_DIR="$DESTDIR/etc/budgie"
STATE_DIR="$DESTDIR/var/lib/budgie"
LOG_DIR="$DESTDIR/var/log/budgie"
UNIT_FILE="$DESTDIR/etc/systemd/system/$UNIT_NAME"

# systemctl acts on the running system only: never when installing into another root.
have_systemd() {
	[ -z "$DESTDIR" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

uninstall() {
	if have_systemd && [ -f "$UNIT_FILE" ]; then
		systemctl disable --now "$UNIT_NAME" >/dev/null 2>&1 || true
	fi
	rm -f "$UNIT_FILE" "$BIN_DIR/budgie"
	rm -rf "$LIB_DIR" "$LIB_DIR.new"
	if have_systemd; then systemctl daemon-reload; fi
	say "removed $PREFIX/bin/budgie, $PREFIX/lib/budgie and the $UNIT_NAME unit"
	say "kept /etc/budgie, /var/lib/budgie and /var/log/budgie (remove them by hand to forget everything)"
}

if [ "$UNINSTALL" = yes ]; then
	uninstall
	exit 0
fi

NODE="$(command -v node || true)"
[ -n "$NODE" ] || die "node not found: install Node.js $MIN_NODE_MAJOR or later first"
node_major="$("$NODE" -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge "$MIN_NODE_MAJOR" ] ||
	die "node $("$NODE" --version) is too old: Budgie needs $MIN_NODE_MAJOR or later"
[ -f "$SOURCE/dist/main.js" ] || die "$SOURCE/dist/main.js not found: run 'make build' first"
[ -d "$SOURCE/node_modules" ] || die "$SOURCE/node_modules not found: run 'make build' first"

# The production dependencies only (no TypeScript, jest, eslint): their top-level directories,
# which carry any nested ones with them.
production_modules() {
	(cd "$SOURCE" && npm ls --omit=dev --all --parseable 2>/dev/null) |
		sed -n "s#^$SOURCE/node_modules/##p" |
		awk -F/ 'NF == 1 || (NF == 2 && $1 ~ /^@/)' | sort -u
}

# Build the new tree beside the old one and swap, so a re-run never leaves half an install.
install_lib() {
	local new="$LIB_DIR.new"
	rm -rf "$new"
	mkdir -p "$new/node_modules"
	cp -R "$SOURCE/dist" "$SOURCE/proto" "$SOURCE/package.json" "$new/"
	local module
	while IFS= read -r module; do
		mkdir -p "$new/node_modules/$(dirname "$module")"
		cp -R "$SOURCE/node_modules/$module" "$new/node_modules/$module"
	done < <(production_modules)
	chmod -R u=rwX,go=rX "$new"
	rm -rf "$LIB_DIR"
	mv "$new" "$LIB_DIR"
}

# Relative to itself, so that it works wherever the tree lands (DESTDIR, a moved PREFIX); node
# by its absolute path, because systemd's PATH may not hold it (nvm, /opt).
install_launcher() {
	mkdir -p "$BIN_DIR"
	cat >"$BIN_DIR/budgie.new" <<EOF
#!/bin/sh
# Installed by Budgie's install.sh.
here=\$(dirname "\$(readlink -f "\$0")")
node="$NODE"
[ -x "\$node" ] || node=node
exec "\$node" "\$here/../lib/budgie/dist/main.js" "\$@"
EOF
	chmod 0755 "$BIN_DIR/budgie.new"
	mv "$BIN_DIR/budgie.new" "$BIN_DIR/budgie"
}

install_config() {
	mkdir -p "$CONF_DIR"
	chmod 0755 "$CONF_DIR"
	if [ -e "$CONF_DIR/config.yaml" ]; then
		say "kept the existing /etc/budgie/config.yaml"
		return
	fi
	cat >"$CONF_DIR/config.yaml" <<'EOF'
# Budgie agent settings. Every key is optional: the values shown are the defaults.
# Flags (budgie agent --help) and BUDGIE_* environment variables win over this file.
#containerd: /run/containerd/containerd.sock
#namespace: budgie
#socket: /run/budgie/budgie.sock
#state_dir: /var/lib/budgie
#log_dir: /var/log/budgie
#node_name: <the hostname>
#log_level: info
#bridge: budgie0
#subnet: auto                # or an IPv4 CIDR such as 10.213.0.0/16
#publish_address: 0.0.0.0    # where published ports listen
#listen: 0.0.0.0:7447        # the peer API (mutual TLS), served while a cluster member
#advertise: <first non-loopback IPv4>
#mdns: on
#peers:                      # members to dial where multicast is blocked
#  - 192.168.1.20:7447
#heartbeat: 1s
#suspect_after: 3s
#dead_after: 10s
EOF
	chmod 0644 "$CONF_DIR/config.yaml"
}

install_dirs() {
	# The state holds the cluster's private keys: owner only.
	mkdir -p "$STATE_DIR" "$LOG_DIR"
	chmod 0700 "$STATE_DIR"
	chmod 0750 "$LOG_DIR"
}

install_unit() {
	mkdir -p "$(dirname "$UNIT_FILE")"
	cat >"$UNIT_FILE" <<EOF
# Installed by Budgie's install.sh.
[Unit]
Description=Budgie agent (peer-to-peer container orchestrator)
After=network-online.target containerd.service
Wants=network-online.target containerd.service

[Service]
ExecStart=$PREFIX/bin/budgie agent --config /etc/budgie/config.yaml
Restart=on-failure
RestartSec=2
# SIGTERM goes to the agent alone, which stops cleanly; the containers run under containerd's
# shims, outside this unit, and keep running.
KillMode=mixed
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
EOF
	chmod 0644 "$UNIT_FILE"
}

install_lib
install_launcher
install_config
install_dirs
if [ "$PLATFORM" = linux ]; then
	install_unit
	if have_systemd; then systemctl daemon-reload; fi
	if [ "$START" = yes ]; then
		have_systemd || die "--start: needs a running systemd and no DESTDIR"
		systemctl enable --now "$UNIT_NAME"
		say "started $UNIT_NAME"
	fi
else
	# The agent drives containerd, CNI and cgroups; on macOS the CLI talks to a Linux agent.
	[ "$START" = no ] || die "--start: the agent runs on Linux only"
	say "installed the CLI only: the agent needs Linux with containerd"
fi
say "installed $PREFIX/bin/budgie ($("$BIN_DIR/budgie" --version))"
say "next: budgie nest check; then as root: systemctl start budgie-agent (or budgie agent)"
