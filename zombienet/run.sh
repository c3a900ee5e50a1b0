#!/usr/bin/env bash
# Runs zombienet scenarios against the locally built edgeproof-node.
#
#   zombienet/run.sh zombienet/01-finality [more scenario dirs...]
#
# Each scenario directory holds a `network.toml` and a `test.zndsl`. The scenario is run with
# zombienet's native provider: the nodes are local processes of $EDGEPROOF_NODE_BIN (from
# scripts/env.sh), listening on 127.0.0.1 only; nothing is downloaded. Each run gets a fresh
# network directory under a temporary directory, and every process the run started is stopped
# when it ends, however it ends.
#
# Environment:
#   ZOMBIENET_TIMEOUT  wall-clock limit of one scenario in seconds (default 900)
#   ZOMBIENET_KEEP=1   keep the network directory (chain spec, node logs, databases) after a pass;
#                      it is always kept after a failure
#
# Exits non-zero if any scenario failed. The last line is `N passed, M failed` (scenarios).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$EDGEPROOF_ROOT"

if [ "$#" -eq 0 ]; then
	echo "usage: zombienet/run.sh <scenario-dir> [<scenario-dir>...]" >&2
	exit 2
fi
ZOMBIENET="$EDGEPROOF_ROOT/node_modules/.bin/zombienet"
if [ ! -x "$ZOMBIENET" ]; then
	echo "zombienet: $ZOMBIENET is missing; run scripts/setup.sh (npm ci)" >&2
	exit 1
fi
if [ ! -x "$EDGEPROOF_NODE_BIN" ]; then
	echo "zombienet: no node binary at $EDGEPROOF_NODE_BIN;" \
		"build it with: cargo build --release -p edgeproof-node" >&2
	exit 1
fi
export EDGEPROOF_NODE_BIN
TIMEOUT="${ZOMBIENET_TIMEOUT:-900}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/edgeproof-zombienet.XXXXXX")"
PGID=""

# Stops everything this script started: the process group of the zombienet run (zombienet and
# the nodes it spawned), then, as a safety net, any process still running from this run's
# directory (a node whose --base-path is under $WORK).
stop_processes() {
	if [ -n "$PGID" ] && kill -0 -- "-$PGID" 2>/dev/null; then
		kill -TERM -- "-$PGID" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 -- "-$PGID" 2>/dev/null || break
			sleep 1
		done
		kill -KILL -- "-$PGID" 2>/dev/null || true
	fi
	PGID=""
	local pid
	for pid in $(grep -lF -- "$WORK" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
		[ "$pid" = "$$" ] && continue
		kill -KILL "$pid" 2>/dev/null || true
	done
}
cleanup() {
	stop_processes
	if [ -d "$WORK" ] && [ -z "$(ls -A "$WORK")" ]; then
		rmdir "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

passed=0
failed=0
for scenario in "$@"; do
	scenario="$(cd "$scenario" && pwd)"
	name="$(basename "$scenario")"
	if [ ! -f "$scenario/test.zndsl" ] || [ ! -f "$scenario/network.toml" ]; then
		echo "zombienet: $scenario has no test.zndsl and network.toml" >&2
		failed=$((failed + 1))
		continue
	fi
	dir="$WORK/$name"
	log="$WORK/$name.log"
	printf '\033[1mzombienet: %s\033[0m (network directory %s)\n' "$name" "$dir"
	start=$(date +%s)
	# `timeout` puts itself and its children (zombienet and the nodes zombienet spawns) in a
	# process group of their own, whose id is its pid: the group stop_processes stops.
	timeout --kill-after=20 "$TIMEOUT" \
		"$ZOMBIENET" --provider native --logType text --dir "$dir" \
		test "$scenario/test.zndsl" > >(tee "$log") 2>&1 &
	PGID=$!
	status=0
	wait "$PGID" || status=$?
	stop_processes
	elapsed=$(($(date +%s) - start))
	if [ "$status" -eq 0 ]; then
		passed=$((passed + 1))
		printf '\033[1;32mzombienet: %s passed\033[0m in %d s\n' "$name" "$elapsed"
		if [ "${ZOMBIENET_KEEP:-0}" != 1 ]; then
			rm -rf "$dir" "$log"
		fi
	else
		failed=$((failed + 1))
		[ "$status" -eq 124 ] && echo "zombienet: $name timed out after $TIMEOUT s" >&2
		printf '\033[1;31mzombienet: %s failed\033[0m (exit %d) in %d s; node logs: %s/<node>.log, run log: %s\n' \
			"$name" "$status" "$elapsed" "$dir" "$log" >&2
	fi
done

echo "zombienet: $passed passed, $failed failed"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
