#!/usr/bin/env bash
# Many idle readers (GET …/stream of silent replies) on one host: chatd's memory and the
# keep-alives' lateness. Options go to idle_readers.py (--readers 10000 --replies 50
# --watch-s 50 ...).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
exec python3 "$bench_dir/idle_readers.py" "$@"
