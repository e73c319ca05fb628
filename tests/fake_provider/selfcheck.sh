#!/bin/bash
# Hand-run self-check of fake_provider with curl: every scenario for every provider.
# Usage: tests/fake_provider/selfcheck.sh [path/to/fake_provider]   (needs curl and jq)
set -u
BIN=${1:-build/tests/fake_provider}
OUT=$(mktemp)
"$BIN" --port 0 --log "$OUT.log" >"$OUT" 2>&1 &
PID=$!
trap 'kill $PID; rm -f "$OUT" "$OUT.log"' EXIT
for _ in $(seq 50); do grep -q listening "$OUT" && break; sleep 0.1; done
PORT=$(sed -n 's/^listening on 127.0.0.1://p' "$OUT")
BASE=http://127.0.0.1:$PORT
W=${WIDTH:-230}

# body PROVIDER USER_TEXT [TOOL_TURNS] [THINKING]
body() {
  local p=$1 t=$2 n=${3:-0} th=${4:-0}
  case $p in
    openai) jq -nc --arg t "$t" --argjson n "$n" '{model:"fake-model",stream:true,
        stream_options:{include_usage:true},messages:([{role:"user",content:$t}] +
        [range($n) | {role:"tool",tool_call_id:"x",content:"{}"}])}' ;;
    anthropic) jq -nc --arg t "$t" --argjson n "$n" --argjson th "$th" '{model:"fake-model",
        max_tokens:4096,stream:true,messages:([{role:"user",content:[{type:"text",text:$t}]}] +
        [range($n) | {role:"user",content:[{type:"tool_result",tool_use_id:"x",content:"{}"}]}])}
        + (if $th == 1 then {thinking:{type:"enabled",budget_tokens:2048}} else {} end)' ;;
    google) jq -nc --arg t "$t" --argjson n "$n" --argjson th "$th" '{contents:(
        [{role:"user",parts:[{text:$t}]}] +
        [range($n) | {role:"user",parts:[{functionResponse:{name:"x",response:{}}}]}])}
        + (if $th == 1 then {generationConfig:{thinkingConfig:{includeThoughts:true}}} else {} end)' ;;
  esac
}

# call PROVIDER KEY BODY [curl args...]: prints status line, notable headers and the body
call() {
  local p=$1 key=$2 b=$3
  shift 3
  local url hdr=()
  case $p in
    openai) url=$BASE/v1/chat/completions; hdr=(-H "Authorization: Bearer $key") ;;
    anthropic) url=$BASE/v1/messages; hdr=(-H "x-api-key: $key" -H "anthropic-version: 2023-06-01") ;;
    google) url="$BASE/v1beta/models/fake-model:streamGenerateContent?alt=sse"; hdr=(-H "x-goog-api-key: $key") ;;
  esac
  curl -sS -i -N "${hdr[@]}" -H 'content-type: application/json' "$@" --data-binary "$b" "$url" \
    2>&1 | grep -v -i -E '^(transfer-encoding|connection|cache-control|x-request-id|request-id|x-ratelimit)' \
    | tr -d '\r' | grep -v '^$' | cut -c1-"$W"
  echo "   [curl exit ${PIPESTATUS[0]}]"
}

TOOLS='SCRIPT {"steps":[{"text":"Let me look.","tool_calls":[{"name":"weather","args":{"city":"Paris","unit":"C"}}]},{"text":"It is sunny."}]}'
PAR='SCRIPT {"steps":[{"tool_calls":[{"name":"a","args":{"x":1}},{"name":"b","args":{"y":"two"}}]}]}'
THINK='SCRIPT {"steps":[{"reasoning":"Think hard.","text":"Done."}]}'
FAIL='SCRIPT {"fail":{"status":429,"times":1,"retry_after":"1"},"steps":[{"text":"Recovered."}]}'
MID='SCRIPT {"midstream_error_after":2,"steps":[{"text":"one two three four"}]}'
STALL='SCRIPT {"stall_after":1,"steps":[{"text":"one two three"}]}'
CUT='SCRIPT {"cut_after":2,"steps":[{"text":"one two three four"}]}'

for p in openai anthropic google; do
  echo "################ $p"
  echo "=== $p: text"; call $p k "$(body $p 'hello there')"
  echo "=== $p: tools, step 0"; call $p k "$(body $p "$TOOLS")"
  echo "=== $p: tools, step 1 (one tool-result turn)"; call $p k "$(body $p "$TOOLS" 1)"
  echo "=== $p: parallel tools"; call $p k "$(body $p "$PAR")"
  echo "=== $p: thinking"; call $p k "$(body $p "$THINK" 0 1)"
  echo "=== $p: bad-key"; call $p bad-key "$(body $p hi)"
  echo "=== $p: 429 then success (1st)"; call $p k "$(body $p "$FAIL")"
  echo "=== $p: 429 then success (2nd)"; call $p k "$(body $p "$FAIL")"
  echo "=== $p: mid-stream error after 2"; call $p k "$(body $p "$MID")"
  echo "=== $p: stall after 1 (curl --max-time 1)"; call $p k "$(body $p "$STALL")" --max-time 1
  echo "=== $p: cut after 2"; call $p k "$(body $p "$CUT")"
done
echo "################ model lists"
curl -sS "$BASE/v1/models" -H 'Authorization: Bearer k'; echo
curl -sS "$BASE/v1/models" -H 'x-api-key: k' -H 'anthropic-version: 2023-06-01'; echo
curl -sS "$BASE/v1beta/models" -H 'x-goog-api-key: k'; echo
echo "################ log (last 3 lines)"
tail -3 "$OUT.log"
