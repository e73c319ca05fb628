#!/usr/bin/env bash
# GET /api/v2/chats (20 chats) and GET …/messages (200 messages) through nginx with wrk:
# chatd vs (a) nginx `return 200` of the same bytes, (b) the libfcgi floor worker, (c) PHP-FPM.
# Options go to nonstreaming.py (--duration 5 --runs 3 --configs 1x16,2x64 --no-php ...), but for
# --before-rev REV: chatd as of git revision REV is built in build-bench/before/ and run beside
# today's, in the same invocation (nonstreaming.py --before).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need wrk

build_floor

# Peer (c) needs PHP-FPM with pdo_pgsql; installed here (not by scripts/install-deps) when
# missing, and skipped when it cannot be.
php=()
if ! command -v php-fpm8.2 >/dev/null || ! php-fpm8.2 -m 2>/dev/null | grep -qx pdo_pgsql; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends php8.2-fpm \
    php8.2-pgsql >/dev/null || { echo "bench: no PHP-FPM; peer (c) skipped" >&2; php=(--no-php); }
fi

before_args "$@"
exec python3 "$bench_dir/nonstreaming.py" --floor-bin "$floor" "${php[@]}" "${args[@]}"
