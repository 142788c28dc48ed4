#!/usr/bin/env bash
# Builds Budgie's release packages (after `npm ci`; `make build-all` does both):
#   one minified single-file bundle of the CLI and agent (esbuild), and per target
#   dist-packages/budgie-VERSION-OS-ARCH.tar.gz (linux, darwin) or .zip (windows), each holding
#   budgie.js, proto/ (loaded by the agent at run time), a launcher that runs `node` (budgie or
#   budgie.cmd), README.md and LICENSE (and install.ps1 for Windows); plus SHA256SUMS.
#   For the host platform also budgie-VERSION-OS-ARCH-standalone.tar.gz: one executable made with
#   Node's single executable application support (postject), when the toolchain allows.
# Reproducible: the same checkout gives byte-identical packages (sorted entries, fixed owners,
# modes and mtimes = SOURCE_DATE_EPOCH, by default the last commit's time).
#
# Usage: ./build-all.sh [--no-standalone] [OS/ARCH ...]
#   OS/ARCH  linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
#            (all of them by default)
#   OUT_DIR=dist-packages   where the packages go (emptied first)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ALL_TARGETS=(linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64)
SEA_FUSE=NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2

die() {
	echo "build-all.sh: $*" >&2
	exit 1
}
say() { echo "build-all.sh: $*"; }

STANDALONE=yes
TARGETS=()
for arg in "$@"; do
	case "$arg" in
	--no-standalone) STANDALONE=no ;;
	-h | --help)
		sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*) die "unknown option '$arg' (expected --no-standalone or --help)" ;;
	*)
		valid=no
		for t in "${ALL_TARGETS[@]}"; do [ "$t" = "$arg" ] && valid=yes; done
		[ "$valid" = yes ] || die "unknown target '$arg' (expected one of: ${ALL_TARGETS[*]})"
		TARGETS+=("$arg")
		;;
	esac
done
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

OUT_DIR="${OUT_DIR:-$ROOT/dist-packages}"
case "$OUT_DIR" in /*) ;; *) OUT_DIR="$PWD/$OUT_DIR" ;; esac
ESBUILD="$ROOT/node_modules/.bin/esbuild"
[ -x "$ESBUILD" ] || die "esbuild not found: run 'npm ci' (or 'make build-all')"
for tool in node tar gzip sha256sum; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found"
done

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH="$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 315532800)"
fi
# zip cannot store times before 1980.
[ "$SOURCE_DATE_EPOCH" -ge 315532800 ] || SOURCE_DATE_EPOCH=315532800
export SOURCE_DATE_EPOCH
export LC_ALL=C TZ=UTC
umask 022

WORK="$(mktemp -d "${TMPDIR:-/tmp}/budgie-build-all.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# 1. The bundle: scripts/bundle.ts, itself compiled by esbuild, drives esbuild's API.
"$ESBUILD" "$ROOT/scripts/bundle.ts" --bundle --platform=node --target=node20 --format=cjs \
	--external:esbuild --log-level=warning --outfile="$WORK/tools/bundle.js"
NODE_PATH="$ROOT/node_modules" node "$WORK/tools/bundle.js" "$ROOT" "$WORK/bundle"
VERSION="$(cat "$WORK/bundle/VERSION")"
rm "$WORK/bundle/VERSION"
say "bundle: $(wc -c <"$WORK/bundle/budgie.js") bytes, version $VERSION"

# Fixed modes and mtimes for everything that goes into an archive.
normalise() {
	find "$1" -type d -exec chmod 755 {} +
	find "$1" -type f ! -perm -u+x -exec chmod 644 {} +
	find "$1" -type f -perm -u+x -exec chmod 755 {} +
	find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# tar.gz of directory $2 (inside $1) into $3.
make_tgz() {
	(cd "$1" && tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
		--format=gnu -cf - "$2") | gzip -n -9 >"$3"
}

make_zip() {
	command -v zip >/dev/null 2>&1 || die "'zip' not found, needed for windows packages: apt-get install zip"
	rm -f "$3"
	(cd "$1" && find "$2" -print | sort | zip -X -q -9 "$3" -@)
}

unix_launcher() {
	cat <<'EOF'
#!/usr/bin/env bash
# Budgie launcher: runs the bundled CLI and agent with Node.js >= 20 (BUDGIE_NODE, or node on PATH).
set -euo pipefail
self="${BASH_SOURCE[0]}"
while [ -L "$self" ]; do
	link="$(readlink "$self")"
	case "$link" in
	/*) self="$link" ;;
	*) self="$(dirname "$self")/$link" ;;
	esac
done
exec "${BUDGIE_NODE:-node}" "$(dirname "$self")/budgie.js" "$@"
EOF
}

windows_launcher() {
	printf '@echo off\r\nrem Budgie launcher: runs the bundled CLI with Node.js >= 20 from PATH.\r\nnode "%%~dp0budgie.js" %%*\r\n'
}

# Copies the bundle, proto/, README.md and LICENSE into directory $1.
stage_common() {
	mkdir -p "$1"
	cp -R "$WORK/bundle/." "$1/"
	cp "$ROOT/README.md" "$ROOT/LICENSE" "$1/"
}

# The volume sync watcher's native binary for target $1/$2, where npm installed it (npm installs
# the build machine's only) into package directory $3; elsewhere the agent falls back to Node's
# fs.watch, and says so in its log.
native_watcher() {
	local key
	case "$1/$2" in
	linux/amd64) key=linux-x64-glibc ;;
	linux/arm64) key=linux-arm64-glibc ;;
	darwin/amd64) key=darwin-x64 ;;
	darwin/arm64) key=darwin-arm64 ;;
	windows/amd64) key=win32-x64 ;;
	windows/arm64) key=win32-arm64 ;;
	*) return 0 ;;
	esac
	local from="$ROOT/node_modules/@parcel/watcher-$key"
	[ -f "$from/package.json" ] || return 0
	mkdir -p "$3/node_modules/@parcel/watcher-$key"
	cp "$from/package.json" "$from/LICENSE" "$from"/*.node "$3/node_modules/@parcel/watcher-$key/"
}

rm -rf "$OUT_DIR"
mkdir -p "$OUT_DIR"
BUILT=()

# 2. One package per target.
for target in "${TARGETS[@]}"; do
	os="${target%/*}"
	arch="${target#*/}"
	name="budgie-$VERSION-$os-$arch"
	stage="$WORK/stage-$os-$arch"
	stage_common "$stage/$name"
	native_watcher "$os" "$arch" "$stage/$name"
	if [ "$os" = windows ]; then
		windows_launcher >"$stage/$name/budgie.cmd"
		cp "$ROOT/install.ps1" "$stage/$name/"
		normalise "$stage"
		make_zip "$stage" "$name" "$OUT_DIR/$name.zip"
		BUILT+=("$name.zip")
	else
		unix_launcher >"$stage/$name/budgie"
		chmod 755 "$stage/$name/budgie"
		normalise "$stage"
		make_tgz "$stage" "$name" "$OUT_DIR/$name.tar.gz"
		BUILT+=("$name.tar.gz")
	fi
	say "$target: ${BUILT[-1]}"
done

# 3. The standalone executable for the host, when it is among the targets and the toolchain allows.
host_target() {
	local os arch
	case "$(uname -s)" in
	Linux) os=linux ;;
	Darwin) os=darwin ;;
	*) return 1 ;;
	esac
	case "$(uname -m)" in
	x86_64 | amd64) arch=amd64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) return 1 ;;
	esac
	echo "$os/$arch"
}

# Prints why no standalone executable can be built here, or nothing when one can.
sea_blocker() {
	local node_major
	node_major="$(node -p 'process.versions.node.split(".")[0]')"
	[ "$node_major" -ge 20 ] || {
		echo "Node $node_major has no single executable application support (needs >= 20)"
		return
	}
	[ -x "$ROOT/node_modules/.bin/postject" ] || {
		echo "postject is not installed (npm ci installs it)"
		return
	}
	node -e 'process.exit(process.config.variables.node_shared ? 1 : 0)' ||
		echo "this node is linked against a shared libnode"
}

build_standalone() {
	local target="$1" os="${1%/*}" arch="${1#*/}"
	local name="budgie-$VERSION-$os-$arch-standalone"
	local stage="$WORK/stage-sea" dir
	dir="$stage/$name"
	stage_common "$dir"
	rm "$dir/budgie.js"
	# Relative paths: the blob records the main script's name, which must not vary between builds.
	cat >"$WORK/sea-config.json" <<EOF
{ "main": "bundle/budgie.js", "output": "sea.blob", "disableExperimentalSEAWarning": true, "useSnapshot": false, "useCodeCache": false }
EOF
	(cd "$WORK" && node --experimental-sea-config sea-config.json >/dev/null) || return 1
	cp "$(command -v node)" "$dir/budgie"
	chmod 755 "$dir/budgie"
	local macho=()
	if [ "$os" = darwin ]; then
		codesign --remove-signature "$dir/budgie" || return 1
		macho=(--macho-segment-name NODE_SEA)
	fi
	# postject warns about ELF notes it does not know; show its output only when it fails.
	"$ROOT/node_modules/.bin/postject" "$dir/budgie" NODE_SEA_BLOB "$WORK/sea.blob" \
		--sentinel-fuse "$SEA_FUSE" "${macho[@]}" >"$WORK/postject.log" 2>&1 || {
		cat "$WORK/postject.log" >&2
		return 1
	}
	if [ "$os" = darwin ]; then codesign --sign - "$dir/budgie" || return 1; fi
	"$dir/budgie" --version >/dev/null || return 1
	normalise "$stage"
	make_tgz "$stage" "$name" "$OUT_DIR/$name.tar.gz"
	BUILT+=("$name.tar.gz")
	say "$target: $name.tar.gz (standalone executable)"
}

if [ "$STANDALONE" = yes ]; then
	host="$(host_target || true)"
	wanted=no
	for t in "${TARGETS[@]}"; do [ "$t" = "$host" ] && wanted=yes; done
	if [ -z "$host" ]; then
		say "skipping the standalone executable: unsupported host $(uname -s)/$(uname -m)"
	elif [ "$wanted" = no ]; then
		say "skipping the standalone executable: the host ($host) is not among the targets"
	else
		blocker="$(sea_blocker)"
		if [ -n "$blocker" ]; then
			say "skipping the standalone executable: $blocker"
		elif ! build_standalone "$host"; then
			rm -f "$OUT_DIR/budgie-$VERSION-${host%/*}-${host#*/}-standalone.tar.gz"
			say "skipping the standalone executable: building it failed (see above)"
		fi
	fi
fi

# 4. Checksums.
(cd "$OUT_DIR" && sha256sum "${BUILT[@]}" >SHA256SUMS)
say "wrote ${#BUILT[@]} packages and SHA256SUMS to $OUT_DIR"
