#!/usr/bin/env bash
# `make demo`: starts a containerd for Budgie (unless one already answers at $CONTAINERD), a Budgie
# agent, and runs bundles/hello.bun. Everything it starts lives under /run/budgie-demo and
# /var/lib/budgie-demo; `./demo.sh stop` stops it all.
set -euo pipefail
cd "$(dirname "$0")"

DEMO_RUN=/run/budgie-demo
DEMO_LIB=/var/lib/budgie-demo
CONTAINERD=${CONTAINERD:-$DEMO_RUN/containerd.sock}
SOCKET=${BUDGIE_SOCKET:-/run/budgie/budgie.sock}
budgie() { node dist/main.js --socket "$SOCKET" "$@"; }

stop() {
  budgie stop hello >/dev/null 2>&1 || true
  for pidfile in "$DEMO_RUN/agent.pid" "$DEMO_RUN/containerd.pid"; do
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

if [ "${1:-}" = stop ]; then stop; echo "demo stopped"; exit 0; fi

mkdir -p "$DEMO_RUN" "$DEMO_LIB"
if ! [ -S "$CONTAINERD" ]; then
  echo "== starting containerd at $CONTAINERD"
  containerd --root "$DEMO_LIB/containerd" --state "$DEMO_RUN/containerd" --address "$CONTAINERD" \
    >"$DEMO_LIB/containerd.log" 2>&1 &
  echo $! >"$DEMO_RUN/containerd.pid"
  for _ in $(seq 50); do [ -S "$CONTAINERD" ] && break; sleep 0.1; done
fi

if ! budgie image ls >/dev/null 2>&1; then
  echo "== starting budgie agent on $SOCKET"
  node dist/main.js agent --containerd "$CONTAINERD" --socket "$SOCKET" \
    --state-dir "$DEMO_LIB/agent" --log-dir "$DEMO_LIB/log" >"$DEMO_LIB/agent.out" 2>&1 &
  echo $! >"$DEMO_RUN/agent.pid"
  for _ in $(seq 100); do budgie image ls >/dev/null 2>&1 && break; sleep 0.1; done
fi

echo "== budgie validate bundles/hello.bun"
budgie validate bundles/hello.bun
echo "== budgie run bundles/hello.bun"
budgie run bundles/hello.bun
echo "== budgie ps"
budgie ps
echo "== curl http://127.0.0.1:8080/cgi-bin/hostname (round-robin over the replicas)"
for _ in 1 2 3 4; do curl -fsS http://127.0.0.1:8080/cgi-bin/hostname; done
echo
echo "The agent and the app keep running (agent log: $DEMO_LIB/log/agent.log). Try:"
echo "  node dist/main.js --socket $SOCKET logs hello"
echo "  node dist/main.js --socket $SOCKET scale hello 4"
echo "Stop the app and the demo with: ./demo.sh stop"
