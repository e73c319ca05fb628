#!/usr/bin/env bash
# Chat management at scale: the list, its search and message pages of a user with 10,000 chats
# and a chat of 10,000 messages (wrk -c16), and 1,000 open watchers. Options go to manage.py
# (--chats 10000 --messages 10000 --watchers 1000 --runs 3 --duration 5).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need wrk
exec python3 "$bench_dir/manage.py" "$@"
