#!/usr/bin/env bash
# N concurrent streamed replies through nginx: chatd vs (d) nginx relaying the fake provider
# with no application, and with --node (e) the AI SDK's Node server (bench/node/).
# Options go to streaming.py (--levels 100:20,500:20,1000:20,2000:20,5000:5 --runs 3
# --stream-s 15 --node ...), but for --before-rev REV: chatd as of git revision REV (e.g.
# 03a243f~2, the thread per reply) is built in build-bench/before/ and run beside today's, in
# the same invocation (streaming.py --before).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

loader="$BENCH_BUILD/bench/stream_load"
if [ ! -x "$loader" ] || [ "$bench_dir/stream_load.c" -nt "$loader" ]; then
  gcc -O2 -Wall -Wextra -o "$loader" "$bench_dir/stream_load.c"
fi
if [[ " $* " == *" --node "* ]] && [ ! -d "$bench_dir/node/node_modules" ]; then
  npm ci --prefix "$bench_dir/node" --no-audit --no-fund >/dev/null
fi

args=()
while [ $# -gt 0 ]; do
  if [ "$1" = --before-rev ]; then
    rev="$(git -C "$repo_root" rev-parse --short "$2")"
    before="$BENCH_BUILD/before/$rev"
    if [ ! -x "$before/build/chatd" ]; then
      rm -rf "$before/src"
      mkdir -p "$before"
      git -C "$repo_root" archive --prefix=src/ "$rev" | tar -x -C "$before"
      cmake -S "$before/src" -B "$before/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
      cmake --build "$before/build" -j2 --target chatd >/dev/null
    fi
    args+=(--before "$before/build/chatd")
    shift 2
  else
    args+=("$1")
    shift
  fi
done

exec python3 "$bench_dir/streaming.py" --loader "$loader" "${args[@]}"
