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

before_args "$@"

exec python3 "$bench_dir/streaming.py" --loader "$loader" "${args[@]}"
