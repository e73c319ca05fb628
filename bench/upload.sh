#!/usr/bin/env bash
# File uploads through nginx: 10 MiB files, 4 at once; latency and chatd's RSS growth per upload
# in flight. Options go to upload.py (--size-mib 10 --concurrency 4 --uploads 60).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
exec python3 "$bench_dir/upload.py" "$@"
