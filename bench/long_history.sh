#!/usr/bin/env bash
# A chat with 10,000 messages: GET …/messages time and worker memory (next to the floor worker
# and nginx serving the same bytes), and POST …/messages to first byte against a short chat.
# Options go to long_history.py (--messages 10000 --runs 5).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build_floor
exec python3 "$bench_dir/long_history.py" --floor-bin "$floor" "$@"
