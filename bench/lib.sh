# Helpers shared by bench/run and bench/profile (sourced, not run):
# settings, a work directory removed on exit with everything started
# in it, nginx and redis-server instances, configurations, keys, tokens
# and the CPU accounting of wrk runs.
#
# The sourcing script sets ROOT, BENCH, BUILD and PROG (its name, for
# messages) first.

NGINX=${NGINX:-/usr/sbin/nginx}
TOKEN_TOOL=$BUILD/digin-token
ADMIN_TOOL=$BUILD/digin-admin
MODULE=$BUILD/ngx_http_digin_module.so
ISS=https://idp.bench

for f in "$TOKEN_TOOL" "$ADMIN_TOOL" "$MODULE"; do
    [ -e "$f" ] || { echo "$PROG: $f is missing, run make first" >&2;
                     exit 1; }
done
for c in wrk node redis-server redis-cli curl perl; do
    command -v "$c" > /dev/null \
        || { echo "$PROG: $c is missing (make deps)" >&2; exit 1; }
done
# the stampede opens 1,000 sockets at once
ulimit -n 8192 2> /dev/null || true

WORK=$(mktemp -d /tmp/digin-bench.XXXXXX)
NGINX_PIDFILES=()
REDIS_PIDFILES=()
BG_PIDS=()

cleanup() {
    local f p pids=()

    set +e
    for p in "${BG_PIDS[@]}"; do
        pkill -P "$p" 2> /dev/null      # a function's children (mint)
        kill "$p" 2> /dev/null && pids+=("$p")
    done
    for f in "${REDIS_PIDFILES[@]}"; do
        [ -f "$f" ] || continue
        p=$(cat "$f")
        kill -CONT "$p" 2> /dev/null    # a stopped server cannot exit
        kill "$p" 2> /dev/null && pids+=("$p")
    done
    for f in "${NGINX_PIDFILES[@]}"; do
        [ -f "$f" ] || continue
        p=$(cat "$f")
        kill -TERM "$p" 2> /dev/null && pids+=("$p")
    done
    for _ in $(seq 1 50); do
        for p in "${pids[@]}"; do
            kill -0 "$p" 2> /dev/null && break
            p=
        done
        [ -z "${p:-}" ] && break
        sleep 0.1
    done
    if [ -n "${BENCH_KEEP:-}" ]; then
        echo "$PROG: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
    echo "$PROG: $*" >&2
    exit 1
}

free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1",
                                      LocalPort => 0, ReuseAddr => 1)
            or die "no free port: $!";
        print $s->sockport;'
}

wait_port() {   # wait_port PORT [TRIES of 50 ms]
    local i
    for i in $(seq 1 "${2:-100}"); do
        if perl -MIO::Socket::INET -e \
            'IO::Socket::INET->new(PeerAddr => "127.0.0.1:'"$1"'") or exit 1'
        then
            return 0
        fi
        sleep 0.05
    done
    die "nothing listens on port $1"
}

# start_redis NAME -> sets REDIS_PORT_<NAME>
start_redis() {
    local port
    port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize yes --pidfile "$WORK/redis-$1.pid" \
        --logfile "$WORK/redis-$1.log" --dir "$WORK"
    REDIS_PIDFILES+=("$WORK/redis-$1.pid")
    wait_port "$port"
    "$ADMIN_TOOL" --redis "127.0.0.1:$port" load "$WORK/entitlements.json" \
        > /dev/null
    printf -v "REDIS_PORT_$1" '%s' "$port"
}

# start_nginx NAME PORT WORKERS HTTP-BLOCK-BODY
#   with NGINX_WRAP set (a command such as "valgrind --tool=callgrind"),
#   one process without a master runs under it in the background
start_nginx() {
    local dir=$WORK/$1
    mkdir -p "$dir/logs"
    cat > "$dir/nginx.conf" <<CONF
load_module $MODULE;
$( [ -n "${NGINX_WRAP:-}" ] && echo "daemon off; master_process off;" )
worker_processes $3;
worker_rlimit_nofile 8192;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
$( [ "$(id -u)" = 0 ] && echo "user root root;" )
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
$4
}
CONF
    if [ -n "${NGINX_WRAP:-}" ]; then
        bg $NGINX_WRAP "$NGINX" -p "$dir" -c "$dir/nginx.conf" \
            -e "$dir/logs/error.log" 2> "$dir/logs/stderr"
        echo "${BG_PIDS[-1]}" > "$dir/worker.pid"
        wait_port "$2" 600
        return
    fi
    "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log"
    NGINX_PIDFILES+=("$dir/nginx.pid")
    wait_port "$2"
}

workers_of() {
    if [ -f "$WORK/$1/worker.pid" ]; then
        cat "$WORK/$1/worker.pid"
    else
        pgrep -P "$(cat "$WORK/$1/nginx.pid")"
    fi
}

# upstream_http PORT
upstream_http() {
    cat <<CONF
    server {
        listen 127.0.0.1:$1 backlog=4096;
        keepalive_requests 1000000;
        location /item { return 200 "item\n"; }
        location /echo {
            return 200 "\$http_authorization|\$http_x_digin_pseudonym|\$http_cookie\n";
        }
    }
CONF
}

# the full gated vendor location: token, entitlement, pseudonym and
# assertion toward the vendor, credentials stripped (the default)
vendor_location() {   # vendor_location PATH UPSTREAM-PATH
    cat <<CONF
        location = $1 {
            digin_vendor bokskya medium=ebook;
            proxy_pass http://vendor/$2;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer \$digin_vendor_token";
            proxy_set_header X-Digin-Pseudonym \$digin_pseudonym;
        }
CONF
}

# the same gate the common way: auth_request to bench/authsvc.js
authreq_location() {   # authreq_location PATH UPSTREAM-PATH
    cat <<CONF
        location = $1 {
            auth_request /_auth;
            auth_request_set \$pseudonym \$upstream_http_x_digin_pseudonym;
            auth_request_set \$vendor_token
                             \$upstream_http_x_digin_vendor_token;
            proxy_pass http://vendor/$2;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "Bearer \$vendor_token";
            proxy_set_header X-Digin-Pseudonym \$pseudonym;
            proxy_set_header Cookie \$cookie_without_token;
        }
CONF
}

# gateway_http PORT UPSTREAM-PORT ZONE-SIZE CACHE-TTL REDIS-PORT
#              REDIS-TIMEOUT
gateway_http() {
    cat <<CONF
    upstream vendor {
        server 127.0.0.1:$2;
        keepalive 64;
    }
    upstream authsvc {
        server 127.0.0.1:$AUTH_PORT;
        keepalive 64;
    }

    digin_zone digin:$3;
    digin_issuer $ISS jwks=$WORK/keys/idp.jwks.json audience=digin
                 algorithms=RS256,ES256,EdDSA library_claim=library;
    digin_redis 127.0.0.1:$5 timeout=$6;
    digin_cache_ttl $4;
    digin_pseudonym_key $WORK/keys/pseudonym.key;
    digin_vendor_key bokskya $WORK/keys/vendor.pem alg=ES256 kid=gw-bench;

    # the common way: the token cookie cut out of Cookie by a regex
    map \$http_cookie \$cookie_without_token {
        "~^(?<a>.*?)(?:;\\s*)?digin_token=[^;]*(?<b>.*)\$" "\$a\$b";
        default \$http_cookie;
    }

    server {
        listen 127.0.0.1:$1 backlog=4096;
        keepalive_requests 1000000;
        digin_token_cookie digin_token;

        location = /return { return 200 "item\n"; }

        location = /plain {
            proxy_pass http://vendor/item;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }

        location = /gated {
            digin on;
            proxy_pass http://vendor/item;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }

        location = /entitled {
            digin_vendor bokskya medium=ebook;
            proxy_pass http://vendor/item;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }

$(vendor_location /vendor item)
$(vendor_location /vendor-echo echo)
$(authreq_location /authreq item)
$(authreq_location /authreq-echo echo)

        location = /_auth {
            internal;
            proxy_pass http://authsvc/check?vendor=bokskya&medium=ebook;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
        }

        location = /status {
            digin_status;
        }
    }
CONF
}

# metric PORT NAME: a counter of digin_status
metric() {
    curl -sf "http://127.0.0.1:$1/status" \
        | awk -v n="$2" '$1 == n { print $2; found = 1 }
                         END { if (!found) print 0 }'
}

evalsha_calls() {
    redis-cli -p "$1" INFO commandstats \
        | awk -F'[:=,]' '/^cmdstat_evalsha:/ { print $3; found = 1 }
                         END { if (!found) print 0 }'
}

# rss PID -> "VmRSS RssAnon RssShmem" in kB
rss() {
    awk '/^(VmRSS|RssAnon|RssShmem):/ { v[$1] = $2 }
         END { print v["VmRSS:"], v["RssAnon:"], v["RssShmem:"] }' \
        "/proc/$1/status"
}

# cycle_script TOKENFILE PATH > LUA: each request the next token, as
# Authorization and as the token cookie; the requests are formatted
# once, before the run, so that wrk spends as little as it can on each
cycle_script() {
    cat <<LUA
local requests = {}
init = function()   -- in each thread, when wrk knows the Host header
    for line in io.lines("$1") do
        requests[#requests + 1] = wrk.format("GET", "$2", {
            ["Authorization"] = "Bearer " .. line,
            ["Cookie"] = "theme=dark; digin_token=" .. line .. "; lang=nb" })
    end
end
local i = 0
request = function()
    i = i % #requests + 1
    return requests[i]
end
LUA
}

# -- CPU accounting ---------------------------------------------------------
#
# The machine may be shared: each scenario also records the CPU time the
# gateway's workers spent per request (steadier than req/s when others
# compete for the cores), how busy they were, and how many cores the
# processes that are not the bench's took meanwhile (kernel threads, such
# as the softirq work of loopback traffic, are not counted).

OUR_PIDS=()

jiffies_of() {   # utime + stime of the processes, in 1/100 s
    local p t=0 v
    for p in "$@"; do
        v=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2> /dev/null) || v=0
        t=$((t + v))
    done
    echo "$t"
}

# "pid ticks start" of every user process outside the bench (the bench's
# shell and its children, such as wrk, and OUR_PIDS are left out), after
# a first line "now TICKS-SINCE-BOOT"
others_sample() {
    awk '{ printf "now %.0f\n", $1 * 100 }' /proc/uptime
    awk -v me="$$" -v ours=" ${OUR_PIDS[*]} " '
        FNR == 1 {
            i = 0
            for (k = length($0); k > 0; k--) {
                if (substr($0, k, 1) == ")") { i = k; break }
            }
            pid = $1
            n = split(substr($0, i + 2), f, " ")
            ppid = f[2]
            if (pid == 2 || ppid == 2 || pid == me || ppid == me \
                || index(ours, " " pid " ")) next
            print pid, f[12] + f[13], f[20]
        }' /proc/[0-9]*/stat 2> /dev/null || true   # some exit meanwhile
}

# others_ticks BEFORE AFTER -> ticks used in between: the growth of the
# processes in both samples, and all of those started in between (a
# process missed by the first sample but older is left out); at most
# all the cores' ticks
others_ticks() {
    awk -v cores="$(nproc)" '
        $1 == "now" { if (NR == FNR) t0 = $2; else t1 = $2; next }
        NR == FNR { b[$1] = $2; next }
        ($1 in b) { d += $2 - b[$1]; next }
        $3 >= t0 { d += $2 }
        END {
            max = (t1 - t0) * cores
            if (d > max) d = max
            if (d < 0) d = 0
            print d + 0
        }' "$1" "$2"
}

# wrk_run NAME INSTANCE THREADS CONNECTIONS SECONDS PATH [wrk args]:
#   writes "req/s p50_ms p99_ms requests non2xx us_per_request busy%
#   other_cores" to $WORK/wrk-NAME.sum (read it with "result NAME");
#   a non-2xx answer stops the run
wrk_run() {
    local name=$1 inst=$2 t=$3 c=$4 d=$5 path=$6 out workers w0 w1
    shift 6
    out=$WORK/wrk-$name.txt
    workers=$(workers_of "$inst")
    w0=$(jiffies_of $workers)
    others_sample > "$WORK/others.0"
    wrk -t"$t" -c"$c" -d"${d}s" --latency "$@" \
        "http://127.0.0.1:${PORT[$inst]}$path" > "$out"
    others_sample > "$WORK/others.1"
    w1=$(jiffies_of $workers)
    if grep -q "Non-2xx" "$out"; then
        cat "$out" >&2
        die "$name: $(grep 'Non-2xx' "$out") - not measured"
    fi
    awk -v w=$((w1 - w0)) -v nw="$(echo "$workers" | wc -w)" \
        -v other="$(others_ticks "$WORK/others.0" "$WORK/others.1")" \
        'function ms(v) {
             if (v ~ /us$/) return v * 0.001
             if (v ~ /ms$/) return v * 1
             if (v ~ /m$/)  return v * 60000
             if (v ~ /s$/)  return v * 1000
             return v
         }
         /Requests\/sec:/ { rps = $2 }
         /^ +50%/ { p50 = ms($2) }
         /^ +99%/ { p99 = ms($2) }
         / requests in / { n = $1; secs = $4 + 0 }
         /Non-2xx/ { bad = $5 }
         END {
             if (secs <= 0) secs = 1
             printf "%.0f %.3f %.3f %d %d %.1f %.0f %.2f\n", rps, p50, p99,
                 n, bad, (n > 0) ? w * 10000 / n : 0,
                 w / (secs * nw), other / (secs * 100)
         }' "$out" > "$WORK/wrk-$name.sum"
}

result() { cat "$WORK/wrk-$1.sum"; }

# background jobs: started with bg, waited for with bg_wait
bg() {
    "$@" &
    BG_PIDS+=("$!")
}
bg_wait() {
    local p rest=() rc=0
    wait "$1" || rc=$?
    for p in "${BG_PIDS[@]}"; do
        [ "$p" = "$1" ] || rest+=("$p")
    done
    BG_PIDS=("${rest[@]}")
    return "$rc"
}

fmt() { awk -v a="$1" -v f="$2" 'BEGIN { printf f, a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
verdict() { if "$@"; then echo met; else echo "NOT MET"; fi; }

SUMMARY=()
RECOVERED=()
TRIPS=()
target() {   # target TEXT RESULT
    SUMMARY+=("$(printf '  %-62s %s' "$1" "$2")")
}

# -- keys, tokens, entitlements ---------------------------------------------

# the identity provider's RSA, EC and Ed25519 keys (one JWKS), the
# gateway's pseudonym secret and its ES256 key for vendor assertions
make_keys() {
    K=$WORK/keys
    mkdir -p "$K" "$WORK/tokens"
    "$TOKEN_TOOL" keygen --type rsa --kid bench-rs --out "$K/rs" > /dev/null
    "$TOKEN_TOOL" keygen --type ec --kid bench-es --out "$K/es" > /dev/null
    "$TOKEN_TOOL" keygen --type ed25519 --kid bench-ed --out "$K/ed" \
        > /dev/null
    "$TOKEN_TOOL" keygen --type ec --kid gw-bench --out "$K/vendor" \
        > /dev/null
    "$TOKEN_TOOL" jwks --kid bench-rs --kid bench-es --kid bench-ed \
        "$K/rs.pem" "$K/es.pem" "$K/ed.pem" > "$K/idp.jwks.json"
    head -c 64 /dev/urandom > "$K/pseudonym.key"
    chmod 600 "$K/pseudonym.key"
}

# token SUB LIBRARY JTI: one RS256 token as a browser holds it
token() {
    "$TOKEN_TOOL" mint --key "$K/rs.pem" --alg RS256 --kid bench-rs \
        --iss "$ISS" --aud digin --sub "$1" --library "$2" --jti "$3" \
        --ttl 86400
}

# many distinct tokens quickly (bench/mint.js)
mint() {
    node "$BENCH/mint.js" --iss "$ISS" --aud digin --library 0301 "$@"
}

# libraries (0302 and 0303 only for the stampedes) and a record for each
# patron
make_entitlements() {
    node -e '
        const iss = process.argv[1], pat = {};
        pat["patron-hot"] = { library: "0301" };
        pat["patron-cold"] = { library: "0301" };
        pat["patron-stampede-a"] = { library: "0302" };
        pat["patron-stampede-b"] = { library: "0303" };
        for (let i = 1; i <= 6000; i++) {
            pat["patron-" + i] = { library: "0301" };
        }
        process.stdout.write(JSON.stringify({
            version: 1,
            vendors: { bokskya: { name: "Bokskya", media: ["ebook"] } },
            packages: { basis: { name: "Basis", vendors: ["bokskya"] } },
            libraries: {
                "0301": { name: "Deichman", county: "03",
                          packages: ["basis"] },
                "0302": { name: "Stampede A", county: "03",
                          packages: ["basis"] },
                "0303": { name: "Stampede B", county: "03",
                          packages: ["basis"] } },
            patrons: { [iss]: pat } }));' "$ISS" > "$WORK/entitlements.json"
}

# keep_cores_awake: while the bench runs, idle cores poll instead of
# halting (a PM QoS request of 0 us exit latency on /dev/cpu_dma_latency,
# as latency-tuned hosts set it; released when its holder exits).  wrk
# and the upstream share the machine with the gateway: when the gateway
# is the bottleneck they sleep between its requests, and on a virtual
# machine each write that wakes a halted core costs the writer an
# interrupt through the hypervisor (about 5 us per cold RS256 request
# here, in sock_def_readable under ngx_chain_writer), which a vendor on
# another host would not cost the gateway.  BENCH_IDLE=halt keeps the
# machine's own idle states; IDLE_STATE says which applies, for the
# report, and IDLE_HOLDER is the holder's pid while it holds.
IDLE_HOLDER=
keep_cores_awake() {
    IDLE_STATE="the machine's own idle states"
    if [ "${BENCH_IDLE:-poll}" = halt ]; then
        IDLE_STATE="$IDLE_STATE (BENCH_IDLE=halt)"
        return
    fi
    if [ ! -w /dev/cpu_dma_latency ] \
        || [ ! -d /sys/devices/system/cpu/cpu0/cpuidle ]
    then
        IDLE_STATE="$IDLE_STATE (no writable /dev/cpu_dma_latency or no cpuidle)"
        return
    fi
    rm -f "$WORK/idle-held"
    bg perl -e 'open(my $f, ">", "/dev/cpu_dma_latency") or exit 1;
                syswrite($f, pack("l", 0)) == 4 or exit 1;
                $| = 1; print "held\n"; sleep' > "$WORK/idle-held"
    IDLE_HOLDER=${BG_PIDS[-1]}
    for _ in $(seq 1 50); do
        [ -s "$WORK/idle-held" ] && break
        kill -0 "$IDLE_HOLDER" 2> /dev/null || break
        sleep 0.05
    done
    if [ -s "$WORK/idle-held" ]; then
        IDLE_STATE="idle cores poll (cpu_dma_latency 0; BENCH_IDLE=halt to"
        IDLE_STATE="$IDLE_STATE measure with the machine's own idle states)"
    else
        IDLE_STATE="$IDLE_STATE (cpu_dma_latency could not be held)"
        let_cores_halt
    fi
}
let_cores_halt() {
    [ -n "$IDLE_HOLDER" ] || return 0
    kill "$IDLE_HOLDER" 2> /dev/null
    bg_wait "$IDLE_HOLDER" || true
    IDLE_HOLDER=
}
