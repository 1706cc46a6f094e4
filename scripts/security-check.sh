#!/usr/bin/env bash
# Runs the CIS Kubernetes Benchmark controls that apply to Skiff against a
# fresh `skiff server` with default flags, in a temporary data directory.
# Exits non-zero if any control fails.
#
#   SKIFF=path/to/skiff   the binary to test (default: build ./cmd/skiff)
#   PORT=6443             the server's port (default: a free port)
set -euo pipefail

cd "$(dirname "$0")/.."
work=$(mktemp -d)
server_pid=""
cleanup() {
	if [[ -n "$server_pid" ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

skiff=${SKIFF:-}
if [[ -z "$skiff" ]]; then
	skiff="$work/skiff"
	go build -o "$skiff" ./cmd/skiff
fi
port=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
data="$work/data"

"$skiff" server --data-dir "$data" --secure-port "$port" >"$work/server.log" 2>&1 &
server_pid=$!

# Ready when the kubeconfig is written and /readyz answers.
for _ in $(seq 1 120); do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "skiff server exited:" >&2
		cat "$work/server.log" >&2
		exit 1
	fi
	if [[ -f "$data/kubeconfig" ]] && curl -fsk "https://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
		break
	fi
	sleep 0.5
done

status=0
"$skiff" security-check --data-dir "$data" --kubeconfig "$data/kubeconfig" || status=$?
if [[ $status -ne 0 ]]; then
	echo "security-check failed; server log copied to ${TMPDIR:-/tmp}/skiff-security-check-server.log" >&2
	cp "$work/server.log" "${TMPDIR:-/tmp}/skiff-security-check-server.log" 2>/dev/null || true
fi
exit "$status"
