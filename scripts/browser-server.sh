# Sourced by scripts/lighthouse and scripts/screenshots (not run by itself): starts
# `rats serve` ($RATS, default target/debug/rats) on a lake with a models folder and a throwaway
# accounts database in a temporary folder, makes one user, signs in, and stops the server and
# removes the folder on exit. The server writes its postings vector cache into the lake, as it
# always does.
#
#   start_browser_server LAKE MODELS USER ROLE
# sets: work (the temporary folder), base (http://127.0.0.1:PORT), password, access (the
# session's access cookie).

start_browser_server() {
    local lake=$1 models=$2 user=$3 role=$4
    local rats=${RATS:-target/debug/rats}
    work=$(mktemp -d)
    server=""
    trap '[[ -n "$server" ]] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
    local db="sqlite://$work/accounts.db"
    password="browser passphrase $RANDOM$RANDOM"
    printf '%s\n' "$password" | "$rats" users add "$user" --role "$role" --password-stdin --db "$db" --quiet >/dev/null
    "$rats" serve --lake "$lake" --models "$models" --db "$db" --addr 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
    server=$!
    base=""
    # Pages answer once the lake is read, but a lake never embedded before keeps the server
    # embedding its postings for matching for minutes (9,049 texts in 7 min on two cores, BENCHMARKS.md), which
    # would be measured with the pages: wait for all of it, saying how far it got.
    for second in $(seq 1 1800); do
        base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.out" | head -1 || true)
        if [[ -n "$base" ]] && curl -sf "$base/ready" >/dev/null; then break; fi
        if [[ -n "$base" ]] && ((second % 30 == 0)); then
            curl -s "$base/ready" | python3 -c 'import json, sys; m = json.load(sys.stdin).get("matching") or {}
print("waiting for the server: matching", m.get("state"), m.get("embedded"), "of", m.get("to_embed"), "embedded", file=sys.stderr)' || true
        fi
        sleep 1
    done
    curl -sf "$base/ready" >/dev/null || { echo "rats serve did not get ready:" >&2; cat "$work/serve.err" >&2; exit 1; }
    access=$(curl -s -o /dev/null -c - --data-urlencode "username=$user" --data-urlencode "password=$password" \
        "$base/login" | awk '$6 == "rats_access" { print $7 }')
    [[ -n "$access" ]] || { echo "signing in failed" >&2; exit 1; }
}
