# Sourced by the bench/*.sh entry points: builds chatd and the fake provider in build-bench/
# (Release; only those two targets), and checks that we run as root with the tools we need.
# BENCH_BUILD=DIR uses an existing build instead (DIR/chatd, DIR/tests/fake_provider).
set -euo pipefail
bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(dirname "$bench_dir")"

[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (initdb runs as postgres, nginx as root)" >&2; exit 1; }

need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/install-deps)" >&2; exit 1; }
  done
}
need cmake g++ nginx python3 runuser /usr/lib/postgresql/15/bin/initdb

if [ -z "${BENCH_BUILD:-}" ]; then
  export BENCH_BUILD="$repo_root/build-bench"
  cmake -S "$repo_root" -B "$BENCH_BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BENCH_BUILD" -j2 --target chatd fake_provider >/dev/null
fi
for binary in "$BENCH_BUILD/chatd" "$BENCH_BUILD/tests/fake_provider"; do
  [ -x "$binary" ] || { echo "bench: $binary is missing" >&2; exit 1; }
done
mkdir -p "$BENCH_BUILD/bench"

# Thousands of sockets per process (nginx raises its own with worker_rlimit_nofile).
ulimit -n "$(ulimit -Hn)"

# bench/floor_worker.cpp, the floor baseline (b): one g++ line, not part of the main build.
build_floor() {
  floor="$BENCH_BUILD/bench/floor_worker"
  if [ ! -x "$floor" ] || [ "$bench_dir/floor_worker.cpp" -nt "$floor" ]; then
    # shellcheck disable=SC2046
    g++ -std=c++20 -O2 -Wall -Wextra -o "$floor" "$bench_dir/floor_worker.cpp" -lfcgi \
      $(pkg-config --cflags --libs libpqxx) -lcrypto -pthread
  fi
}

# chatd as of git revision $1, built (once) in $BENCH_BUILD/before/REV: prints its binary, for
# the --before of streaming.py and nonstreaming.py.
build_before() {
  local rev before
  rev="$(git -C "$repo_root" rev-parse --short "$1")"
  before="$BENCH_BUILD/before/$rev"
  if [ ! -x "$before/build/chatd" ]; then
    rm -rf "$before/src"
    mkdir -p "$before"
    git -C "$repo_root" archive --prefix=src/ "$rev" | tar -x -C "$before"
    cmake -S "$before/src" -B "$before/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$before/build" -j2 --target chatd >/dev/null
  fi
  echo "$before/build/chatd"
}

# The arguments with each `--before-rev REV` turned into `--before BINARY` (build_before), in the
# array `args`.
before_args() {
  args=()
  while [ $# -gt 0 ]; do
    if [ "$1" = --before-rev ]; then
      args+=(--before "$(build_before "$2")")
      shift 2
    else
      args+=("$1")
      shift
    fi
  done
}
