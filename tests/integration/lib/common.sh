# Shared by the integration scripts (sourced): failing with a message, a clock in milliseconds,
# bounded waits, and a scratch directory whose processes are killed (by PID) on exit, with
# the tail of every log printed when the script failed.
#   source "$(dirname "$0")/lib/common.sh"; scratch_dir NAME; pids+=($!) for every process started.

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

now_ms() { date +%s%3N; }

# Exit 77 (ctest's skip) saying why.
skip() {
  echo "SKIP: $*"
  exit 77
}

# The network-namespace scripts: root and iproute2, else skipped.
require_netns() {
  [ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
  command -v ip >/dev/null || skip "ip (iproute2) is not installed"
}

# wait_until MS CMD...: runs CMD every 200 ms until it succeeds or MS pass (then returns 1);
# sets $waited_ms.
wait_until() {
  local limit=$1 t0
  shift
  t0=$(now_ms)
  while ! "$@"; do
    if [ $(($(now_ms) - t0)) -ge "$limit" ]; then return 1; fi
    sleep 0.2
  done
  waited_ms=$(($(now_ms) - t0))
}

# scratch_dir NAME [LOG_LINES]: sets $work and installs the EXIT trap that ends every PID in
# $pids, deletes every network namespace in $namespaces and removes $work (printing the last
# LOG_LINES of each $work/*.log on failure; a skip, exit 77, is not one).
scratch_dir() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/grapevine-$1.XXXXXX")
  log_lines=${2:-30}
  pids=()
  namespaces=()
  trap scratch_cleanup EXIT
}

scratch_cleanup() {
  local rc=$? p ns
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    for f in "$work"/*.log; do
      [ -f "$f" ] || continue
      echo "---- $(basename "$f") (last $log_lines lines)"
      tail -n "$log_lines" "$f"
    done
  fi
  rm -rf "$work"
}

# free_port_block FIRST SLOTS: sets $base to a random multiple-of-20 offset from FIRST (one of
# SLOTS) such that base..base+19 are all free for TCP and UDP right now; fails after 30 tries.
# Keep FIRST + 20 * SLOTS below the kernel's ephemeral range (32768 and up): a client's
# connection (another test's RPC call, a stream flood) takes ports there, which `ss -l` does
# not show, and an agent's later bind fails ("Address already in use").
free_port_block() {
  local first=$1 slots=$2 candidate busy clash k
  base=
  for _ in $(seq 1 30); do
    candidate=$((first + ((RANDOM + $$) % slots) * 20))
    busy=$(ss -Hlntu 2>/dev/null | awk '{print $5}' | sed 's/.*://' | sort -u)
    clash=0
    for k in $(seq 0 19); do
      if grep -qx "$((candidate + k))" <<<"$busy"; then clash=1; break; fi
    done
    if [ $clash -eq 0 ]; then base=$candidate; return 0; fi
  done
  fail "no free block of 20 ports found"
}
