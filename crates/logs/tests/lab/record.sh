#!/bin/bash
# Records the real log fixtures of crates/logs/tests/fixtures.
#
# Runs ISC dhcpd, Kea, dnsmasq, dhclient, udhcpc and dhcpcd inside two network
# namespaces it creates (server and client, joined by one veth pair), provokes
# each situation with real clients or craft.py, and keeps the logs. Root only.
# Nothing is sent outside the namespaces; both are deleted on exit, and every
# daemon started here is stopped by its pid.
#
#   crates/logs/tests/lab/record.sh [GROUP...]   GROUP: dhcpd failover kea kea_ha dnsmasq clients framing
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$HERE/../fixtures}
CRAFT="python3 $HERE/craft.py"
TMP=$(mktemp -d /tmp/dltest-logs.XXXXXX)
NS_S=dltest-logs-$$-s
NS_C=dltest-logs-$$-c
PIDS=()
EXTRA_NS=()

cleanup() {
    set +e
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    ip netns del "$NS_S" 2>/dev/null
    ip netns del "$NS_C" 2>/dev/null
    for ns in "${EXTRA_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

S() { ip netns exec "$NS_S" "$@"; }
C() { ip netns exec "$NS_C" "$@"; }

net_up() {
    ip netns add "$NS_S"
    ip netns add "$NS_C"
    ip -n "$NS_S" link add s0 type veth peer name c0 netns "$NS_C"
    ip -n "$NS_S" link set lo up
    ip -n "$NS_C" link set lo up
    ip -n "$NS_S" addr add 10.77.0.1/24 dev s0
    ip -n "$NS_C" addr add 10.77.0.2/24 dev c0
    ip -n "$NS_S" link set s0 up
    ip -n "$NS_C" link set c0 up
    # Replies go to 255.255.255.255 and to the relay address: route both to the client side.
    ip -n "$NS_S" route add 10.99.0.0/24 via 10.77.0.2
    ip -n "$NS_C" addr add 10.99.0.1/24 dev c0
}

# wait_for FILE REGEX [SECONDS]: wait until FILE has a line matching REGEX.
wait_for() {
    local file=$1 re=$2 limit=${3:-15} i=0
    until grep -Eq -- "$re" "$file" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt $((limit * 10)) ]; then
            echo "timeout waiting for /$re/ in $file" >&2
            tail -5 "$file" >&2 || true
            return 1
        fi
        sleep 0.1
    done
}

# start NAME NS CMD...: run CMD in namespace NS in the background, its stderr and
# stdout to $TMP/NAME.out. `ip netns exec` execs CMD, so $! is the daemon itself.
# (All mounts below use `mount -n`, so that not even libmount's /run/mount/utab is
# written on the host.)
start() {
    local name=$1 ns=$2
    shift 2
    ip netns exec "$ns" "$@" >"$TMP/$name.out" 2>&1 &
    PIDS+=("$!")
    eval "PID_$name=$!"
}

stop() {
    local var="PID_$1" p
    p=${!var}
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}

dhclient_conf() {
    cat >"$TMP/dhclient.conf" <<EOF
timeout ${1:-10};
retry 60;
initial-interval 1;
EOF
}

# run_dhclient NAME [ARGS...]: one dhclient run in the client namespace, foreground.
DHCLIENT_ARGS() {
    echo -4 -d -v -sf /bin/true -lf "$TMP/dhclient.leases" -pf "$TMP/dhclient.pid" -cf "$TMP/dhclient.conf"
}

keep() { # keep SRC DEST: copy a log into the fixtures
    cp "$1" "$OUT/$2"
    echo "recorded $OUT/$2 ($(wc -l <"$OUT/$2") lines)"
}

# ---------------------------------------------------------------- ISC dhcpd 4.4
dhcpd_conf() { # dhcpd_conf EXTRA_GLOBAL EXTRA_SUBNET [RANGE]
    cat >"$TMP/dhcpd.conf" <<EOF2
default-lease-time 600;
max-lease-time 600;
ddns-update-style none;
$1
subnet 10.77.0.0 netmask 255.255.255.0 {
  range ${3:-10.77.0.50 10.77.0.51};
  option routers 10.77.0.1;
  $2
}
EOF2
    : >"$TMP/dhcpd.leases"
}

start_dhcpd() {
    start dhcpd "$NS_S" dhcpd -4 -f -d -cf "$TMP/dhcpd.conf" -lf "$TMP/dhcpd.leases" -pf "$TMP/dhcpd.pid" s0
    wait_for "$TMP/dhcpd.out" 'Server starting service|exiting'
}

group_dhcpd() {
    # A: authoritative, two addresses. DORA, release, relay from an unknown segment,
    # INIT-REBOOT from another network, address taken, pool exhausted, foreign server id,
    # DECLINE.
    dhcpd_conf "authoritative; server-id-check true;" ""
    start_dhcpd
    dhclient_conf 10
    rm -f "$TMP/dhclient.leases"
    start dhclient "$NS_C" dhclient $(DHCLIENT_ARGS) c0
    wait_for "$TMP/dhclient.out" '^bound to'
    stop dhclient
    C dhclient $(DHCLIENT_ARGS) -r c0 >"$TMP/dhclient-r.out" 2>&1
    wait_for "$TMP/dhcpd.out" 'DHCPRELEASE of'
    cat "$TMP/dhclient.out" "$TMP/dhclient-r.out" >"$TMP/dhclient-isc.log"
    C $CRAFT dora --mac 02:00:00:00:0a:01 --xid 0x0a010001
    wait_for "$TMP/dhcpd.out" 'DHCPACK on .* to 02:00:00:00:0a:01'
    C $CRAFT dora --mac 02:00:00:00:0a:02 --xid 0x0a020001
    wait_for "$TMP/dhcpd.out" 'DHCPACK on .* to 02:00:00:00:0a:02'
    C $CRAFT discover --mac 02:00:00:00:0a:03 --xid 0x0a030001 --wait 1
    wait_for "$TMP/dhcpd.out" 'no free leases'
    C $CRAFT discover --mac 02:00:00:00:0a:04 --xid 0x0a040001 --giaddr 10.99.0.1 --dst 10.77.0.1
    wait_for "$TMP/dhcpd.out" 'unknown network segment'
    C $CRAFT request --mac 02:00:00:00:0a:05 --xid 0x0a050001 --ip 192.168.5.5 --wait 1
    wait_for "$TMP/dhcpd.out" 'DHCPNAK on 192.168.5.5'
    C $CRAFT request --mac 02:00:00:00:0a:06 --xid 0x0a060001 --ip 10.77.0.50 --wait 1
    wait_for "$TMP/dhcpd.out" 'lease 10.77.0.50 unavailable'
    C $CRAFT request --mac 02:00:00:00:0a:01 --xid 0x0a010002 --ip 10.77.0.51 --server-id 10.77.0.99
    C $CRAFT request --mac 02:00:00:00:0a:01 --xid 0x0a010003 --ip 10.77.0.51 --server-id 10.77.0.99
    C $CRAFT decline --mac 02:00:00:00:0a:02 --xid 0x0a020002 --ip 10.77.0.50 --server-id 10.77.0.1
    wait_for "$TMP/dhcpd.out" 'DHCPDECLINE of'
    stop dhcpd
    keep "$TMP/dhcpd.out" dhcpd-4.4-authoritative.log

    # B: min-secs 2 and a client whose secs stays 0, then one that counts.
    dhcpd_conf "authoritative;" "min-secs 2;"
    start_dhcpd
    for i in 1 2 3; do
        C $CRAFT discover --mac 02:00:00:00:0b:01 --xid 0x0b010001 --secs 0 --wait 0.5
    done
    C $CRAFT discover --mac 02:00:00:00:0b:01 --xid 0x0b010001 --secs 4 --wait 2
    wait_for "$TMP/dhcpd.out" 'DHCPOFFER on .* to 02:00:00:00:0b:01'
    stop dhcpd
    keep "$TMP/dhcpd.out" dhcpd-4.4-min-secs.log

    # C: not authoritative, unknown clients may not boot.
    dhcpd_conf "not authoritative;" "boot-unknown-clients false;"
    start_dhcpd
    C $CRAFT request --mac 02:00:00:00:0c:01 --xid 0x0c010001 --ip 192.168.5.5 --wait 1
    wait_for "$TMP/dhcpd.out" 'not authoritative'
    C $CRAFT discover --mac 02:00:00:00:0c:02 --xid 0x0c020001 --wait 1
    wait_for "$TMP/dhcpd.out" 'unknown client'
    stop dhcpd
    keep "$TMP/dhcpd.out" dhcpd-4.4-not-authoritative.log

    # D: ping-check, the candidate addresses answer pings.
    dhcpd_conf "authoritative; ping-check true; ping-timeout 1;" "" "10.77.0.60 10.77.0.60"
    ip -n "$NS_C" addr add 10.77.0.60/24 dev c0
    start_dhcpd
    C $CRAFT discover --mac 02:00:00:00:0d:01 --xid 0x0d010001 --wait 3
    wait_for "$TMP/dhcpd.out" 'pinged before offer'
    stop dhcpd
    ip -n "$NS_C" addr del 10.77.0.60/24 dev c0
    keep "$TMP/dhcpd.out" dhcpd-4.4-ping-check.log

    # E: one machine, two client identifiers.
    dhcpd_conf "authoritative;" "" "10.77.0.70 10.77.0.79"
    start_dhcpd
    C $CRAFT dora --mac 02:00:00:00:0e:01 --xid 0x0e010001 --client-id 0102000000000e01
    C $CRAFT dora --mac 02:00:00:00:0e:01 --xid 0x0e010002 --client-id 0102000000000e01ff
    C $CRAFT request --mac 02:00:00:00:0e:01 --xid 0x0e010003 --client-id 0102000000000e01 --ip 10.77.0.75 --wait 1
    stop dhcpd
    keep "$TMP/dhcpd.out" dhcpd-4.4-client-id.log

    # F: no subnet declaration for the interface.
    cat >"$TMP/dhcpd.conf" <<EOF2
ddns-update-style none;
subnet 10.88.0.0 netmask 255.255.255.0 { range 10.88.0.50 10.88.0.60; }
EOF2
    : >"$TMP/dhcpd.leases"
    S dhcpd -4 -f -d -cf "$TMP/dhcpd.conf" -lf "$TMP/dhcpd.leases" -pf "$TMP/dhcpd.pid" s0 >"$TMP/dhcpd.out" 2>&1 || true
    keep "$TMP/dhcpd.out" dhcpd-4.4-no-subnet.log

    # The dhclient side of A, and dhclient meeting an authoritative server after a move.
    keep "$TMP/dhclient-isc.log" dhclient-4.4-dora.log
    dhcpd_conf "authoritative;" ""
    start_dhcpd
    cat >"$TMP/dhclient.leases" <<EOF2
lease {
  interface "c0";
  fixed-address 192.168.5.5;
  option subnet-mask 255.255.255.0;
  option dhcp-server-identifier 192.168.5.1;
  renew 4 2037/01/01 00:00:00;
  rebind 4 2037/01/01 00:00:00;
  expire 4 2037/01/01 00:00:00;
}
EOF2
    start dhclient "$NS_C" dhclient $(DHCLIENT_ARGS) c0
    wait_for "$TMP/dhclient.out" '^bound to'
    stop dhclient
    stop dhcpd
    keep "$TMP/dhclient.out" dhclient-4.4-nak.log
    keep "$TMP/dhcpd.out" dhcpd-4.4-init-reboot.log
}
# ---------------------------------------------------------------- ISC dhcpd failover
# Two dhcpd peers and the crafting client meet on a bridge in a third namespace.
group_failover() {
    local NS_H=dltest-logs-$$-h NS_P=dltest-logs-$$-p NS_B=dltest-logs-$$-b
    EXTRA_NS+=("$NS_H" "$NS_P" "$NS_B")
    ip netns add "$NS_H"; ip netns add "$NS_P"; ip netns add "$NS_B"
    ip -n "$NS_H" link add br0 type bridge
    ip -n "$NS_H" link set lo up
    ip -n "$NS_H" link set br0 up
    ip -n "$NS_H" addr add 10.78.0.9/24 dev br0
    local ns nic addr
    for ns in P B; do
        nic=h$ns
        [ $ns = P ] && addr=10.78.0.1 || addr=10.78.0.2
        local nsname="NS_$ns"
        ip -n "$NS_H" link add "$nic" type veth peer name f0 netns "${!nsname}"
        ip -n "$NS_H" link set "$nic" master br0 up
        ip -n "${!nsname}" link set lo up
        ip -n "${!nsname}" addr add "$addr/24" dev f0
        ip -n "${!nsname}" link set f0 up
    done
    for role in primary secondary; do
        if [ $role = primary ]; then
            me=10.78.0.1 myport=647 peer=10.78.0.2 peerport=847 extra="mclt 60; split 255;"
        else
            me=10.78.0.2 myport=847 peer=10.78.0.1 peerport=647 extra=""
        fi
        cat >"$TMP/fo-$role.conf" <<EOF2
ddns-update-style none;
authoritative;
server-id-check true;
default-lease-time 600;
max-lease-time 600;
failover peer "fo" {
  $role;
  address $me; port $myport;
  peer address $peer; peer port $peerport;
  max-response-delay 30; max-unacked-updates 10;
  load balance max seconds 3;
  $extra
}
subnet 10.78.0.0 netmask 255.255.255.0 {
  pool { failover peer "fo"; range 10.78.0.50 10.78.0.50; }
}
EOF2
        : >"$TMP/fo-$role.leases"
    done
    start fo_primary "$NS_P" dhcpd -4 -f -d -cf "$TMP/fo-primary.conf" -lf "$TMP/fo-primary.leases" -pf "$TMP/fo-primary.pid" f0
    start fo_secondary "$NS_B" dhcpd -4 -f -d -cf "$TMP/fo-secondary.conf" -lf "$TMP/fo-secondary.leases" -pf "$TMP/fo-secondary.pid" f0
    wait_for "$TMP/fo_secondary.out" 'I move from .* to normal' 40
    wait_for "$TMP/fo_primary.out" 'I move from .* to normal' 40
    local H="ip netns exec $NS_H $CRAFT --iface br0"
    # secs below "load balance max seconds": the primary's client by the hash.
    $H discover --mac 02:00:00:00:0f:01 --xid 0x0f010001 --secs 0 --wait 1
    # secs above it: the secondary must answer but holds no free lease.
    $H discover --mac 02:00:00:00:0f:02 --xid 0x0f020001 --secs 10 --wait 1
    # A REQUEST naming the primary reaches the secondary too.
    $H request --mac 02:00:00:00:0f:03 --xid 0x0f030001 --ip 10.78.0.50 --server-id 10.78.0.1 --wait 1
    wait_for "$TMP/fo_primary.out" 'DHCPACK on 10.78.0.50' 5
    # Now the lease is active: a REQUEST naming a third server is not for either peer.
    $H request --mac 02:00:00:00:0f:03 --xid 0x0f030002 --ip 10.78.0.50 --server-id 10.78.0.9 --wait 1
    wait_for "$TMP/fo_secondary.out" 'not our server id' 5
    stop fo_secondary
    stop fo_primary
    keep "$TMP/fo_primary.out" dhcpd-4.4-failover-primary.log
    keep "$TMP/fo_secondary.out" dhcpd-4.4-failover-secondary.log
}
# ---------------------------------------------------------------- Kea 2.2
# kea_conf AUTHORITATIVE SUBNET POOL [EXTRA_JSON]: writes $TMP/kea.json, logs to $TMP/kea.log.
kea_conf() {
    cat >"$TMP/kea.json" <<EOF2
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "s0" ], "dhcp-socket-type": "raw" },
  "lease-database": { "type": "memfile", "persist": false },
  "authoritative": $1,
  "valid-lifetime": 600,
  "subnet4": [ { "id": 1, "subnet": "$2", "pools": [ { "pool": "$3" } ] } ],
  "client-classes": [ { "name": "DROP", "test": "option[60].text == 'dropme'" } ],
  ${4:-}
  "loggers": [
    { "name": "kea-dhcp4", "output_options": [ { "output": "$TMP/kea.log" } ],
      "severity": "DEBUG", "debuglevel": 99 },
    { "name": "kea-dhcp4.packets", "output_options": [ { "output": "$TMP/kea.log" } ],
      "severity": "DEBUG", "debuglevel": 50 },
    { "name": "kea-dhcp4.bad-packets", "output_options": [ { "output": "$TMP/kea.log" } ],
      "severity": "DEBUG", "debuglevel": 50 }
  ]
} }
EOF2
    : >"$TMP/kea.log"
}

# kea_keep SRC DEST: keep a Kea log without the debug chatter no diagnosis reads
# (host and hook bookkeeping, memfile calls, timers, HTTP, config dumps). A record is
# its first line and the lines that continue it; kept records are verbatim.
kea_keep() {
    awk -v drop='\\] (HOSTS_|HOOKS_|HTTP_|DHCPSRV_MEMFILE_|DHCPSRV_TIMERMGR|DHCPSRV_CFGMGR|DHCPSRV_SUBNET4_SELECT_NO_|DHCP4_CONFIG_RECEIVED|DHCP4_CONFIG_START|DHCP4_SUBNET_DATA|ALLOC_ENGINE_V4_(LEASES_RECLAMATION|NO_MORE_EXPIRED|RECLAIMED)|EVAL_|COMMAND_|DHCP4_BUFFER_UNPACK|DHCP4_CLIENT_HOSTNAME_PROCESS|DHCP4_PACKET_PACK|DHCPSRV_QUEUE_NCR)' '
        /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / { skip = ($0 ~ drop) }
        !skip' "$1" >"$TMP/kea.kept"
    keep "$TMP/kea.kept" "$2"
}

start_kea() {
    start kea "$NS_S" env KEA_PIDFILE_DIR="$TMP" KEA_LOCKFILE_DIR="$TMP" kea-dhcp4 -c "$TMP/kea.json"
    wait_for "$TMP/kea.log" 'DHCP4_STARTED|DHCP4_INIT_FAIL|DHCP4_CONFIG_LOAD_FAIL'
}

group_kea() {
    # A: authoritative, two addresses: the same situations as dhcpd's A.
    kea_conf true 10.77.0.0/24 "10.77.0.50 - 10.77.0.51"
    start_kea
    dhclient_conf 10
    rm -f "$TMP/dhclient.leases"
    start dhclient "$NS_C" dhclient $(DHCLIENT_ARGS) c0
    wait_for "$TMP/dhclient.out" '^bound to'
    stop dhclient
    C dhclient $(DHCLIENT_ARGS) -r c0 >/dev/null 2>&1
    wait_for "$TMP/kea.log" 'DHCP4_RELEASE '
    C $CRAFT dora --mac 02:00:00:00:0a:01 --xid 0x0a010001
    C $CRAFT dora --mac 02:00:00:00:0a:02 --xid 0x0a020001
    C $CRAFT discover --mac 02:00:00:00:0a:03 --xid 0x0a030001 --wait 1
    C $CRAFT discover --mac 02:00:00:00:0a:04 --xid 0x0a040001 --giaddr 10.99.0.1 --dst 10.77.0.1
    C $CRAFT request --mac 02:00:00:00:0a:05 --xid 0x0a050001 --ip 192.168.5.5 --wait 1
    C $CRAFT request --mac 02:00:00:00:0a:06 --xid 0x0a060001 --ip 10.77.0.50 --wait 1
    C $CRAFT request --mac 02:00:00:00:0a:01 --xid 0x0a010002 --ip 10.77.0.51 --server-id 10.77.0.99 --wait 1
    C $CRAFT discover --mac 02:00:00:00:0a:07 --xid 0x0a070001 --vendor dropme --wait 1
    C $CRAFT decline --mac 02:00:00:00:0a:02 --xid 0x0a020002 --ip 10.77.0.50 --server-id 10.77.0.1
    C $CRAFT short --mac 02:00:00:00:0a:08 --xid 0x0a080001
    C $CRAFT badopt --mac 02:00:00:00:0a:0a --xid 0x0a0a0001
    # Options Kea cannot use: a 3-byte requested address, a host name with an empty
    # label, and no message type at all (BOOTP).
    C $CRAFT discover --mac 02:00:00:00:0a:0b --xid 0x0a0b0001 --opt 50:0a4d00 --wait 1
    C $CRAFT discover --mac 02:00:00:00:0a:0c --xid 0x0a0c0001 --opt 12:=bad..host --wait 1
    C $CRAFT discover --mac 02:00:00:00:0a:0d --xid 0x0a0d0001 --no-type --wait 1
    C $CRAFT discover --mac 02:00:00:00:0a:09 --xid 0x0a090001 --client-id 01020000000a09 --wait 1
    wait_for "$TMP/kea.log" 'tid=0xa090001'
    stop kea
    kea_keep "$TMP/kea.log" kea-2.2-authoritative.log

    # B: not authoritative.
    kea_conf false 10.77.0.0/24 "10.77.0.50 - 10.77.0.51"
    start_kea
    C $CRAFT request --mac 02:00:00:00:0c:01 --xid 0x0c010001 --ip 192.168.5.5 --wait 1
    C $CRAFT request --mac 02:00:00:00:0c:02 --xid 0x0c020001 --ip 10.77.0.51 --wait 1
    wait_for "$TMP/kea.log" 'tid=0xc020001'
    stop kea
    kea_keep "$TMP/kea.log" kea-2.2-not-authoritative.log

    # D: the only pool is open to a class no client is in.
    kea_conf true 10.77.0.0/24 "10.77.0.50 - 10.77.0.51"
    sed -i 's#"pool": "10.77.0.50 - 10.77.0.51" }#"pool": "10.77.0.50 - 10.77.0.51", "client-class": "nobody" }#' "$TMP/kea.json"
    start_kea
    C $CRAFT discover --mac 02:00:00:00:0d:01 --xid 0x0d010001 --wait 1
    wait_for "$TMP/kea.log" 'tid=0xd010001: (no pools|failed to advertise)'
    stop kea
    kea_keep "$TMP/kea.log" kea-2.2-no-pools.log

    # C: no subnet for the interface's address.
    kea_conf true 10.88.0.0/24 "10.88.0.50 - 10.88.0.51"
    start_kea
    C $CRAFT discover --mac 02:00:00:00:0e:01 --xid 0x0e010001 --wait 1
    wait_for "$TMP/kea.log" 'tid=0xe010001'
    stop kea
    kea_keep "$TMP/kea.log" kea-2.2-no-subnet.log
}
# ---------------------------------------------------------------- Kea 2.2 HA
# Two Kea servers in load-balancing mode (HA hook, multi-threaded, dedicated HTTP
# listeners) and the crafting client, on a bridge as in group_failover.
group_kea_ha() {
    local NS_H=dltest-logs-$$-kh NS_1=dltest-logs-$$-k1 NS_2=dltest-logs-$$-k2 hooks
    hooks=$(dirname "$(dpkg -L kea-dhcp4-server kea-common 2>/dev/null | grep -m1 'libdhcp_ha.so$' || echo /usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so)")
    EXTRA_NS+=("$NS_H" "$NS_1" "$NS_2")
    ip netns add "$NS_H"; ip netns add "$NS_1"; ip netns add "$NS_2"
    ip -n "$NS_H" link add br0 type bridge
    ip -n "$NS_H" link set lo up
    ip -n "$NS_H" link set br0 up
    ip -n "$NS_H" addr add 10.78.0.9/24 dev br0
    local n nsname
    for n in 1 2; do
        nsname="NS_$n"
        ip -n "$NS_H" link add "hk$n" type veth peer name k0 netns "${!nsname}"
        ip -n "$NS_H" link set "hk$n" master br0 up
        ip -n "${!nsname}" link set lo up
        ip -n "${!nsname}" addr add "10.78.0.$n/24" dev k0
        ip -n "${!nsname}" link set k0 up
        cat >"$TMP/kea-ha$n.json" <<EOF2
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "k0" ], "dhcp-socket-type": "raw" },
  "lease-database": { "type": "memfile", "persist": false },
  "multi-threading": { "enable-multi-threading": true, "thread-pool-size": 2, "packet-queue-size": 16 },
  "valid-lifetime": 600,
  "hooks-libraries": [
    { "library": "$hooks/libdhcp_lease_cmds.so" },
    { "library": "$hooks/libdhcp_ha.so", "parameters": { "high-availability": [ {
        "this-server-name": "server$n", "mode": "load-balancing",
        "heartbeat-delay": 1000, "max-response-delay": 3000, "max-ack-delay": 1000,
        "max-unacked-clients": 0, "sync-leases": false,
        "multi-threading": { "enable-multi-threading": true, "http-dedicated-listener": true,
                             "http-listener-threads": 1, "http-client-threads": 1 },
        "peers": [
          { "name": "server1", "url": "http://10.78.0.1:8001/", "role": "primary", "auto-failover": true },
          { "name": "server2", "url": "http://10.78.0.2:8001/", "role": "secondary", "auto-failover": true } ] } ] } } ],
  "subnet4": [ { "id": 1, "subnet": "10.78.0.0/24", "pools": [ { "pool": "10.78.0.50 - 10.78.0.59" } ] } ],
  "loggers": [
    { "name": "kea-dhcp4", "output_options": [ { "output": "$TMP/kea-ha$n.log" } ], "severity": "DEBUG", "debuglevel": 99 } ]
} }
EOF2
        : >"$TMP/kea-ha$n.log"
        mkdir -p "$TMP/ha$n"
        start "kea_ha$n" "${!nsname}" env KEA_PIDFILE_DIR="$TMP/ha$n" KEA_LOCKFILE_DIR="$TMP/ha$n" kea-dhcp4 -c "$TMP/kea-ha$n.json"
    done
    wait_for "$TMP/kea-ha1.log" 'HA_STATE_TRANSITION .* to LOAD-BALANCING' 60
    wait_for "$TMP/kea-ha2.log" 'HA_STATE_TRANSITION .* to LOAD-BALANCING' 60
    local H="ip netns exec $NS_H $CRAFT --iface br0" i
    for i in 1 2 3 4; do
        $H discover --mac "02:00:00:00:1a:0$i" --xid "0x1a0${i}0001" --wait 1
    done
    wait_for "$TMP/kea-ha1.log" 'HA_BUFFER4_RECEIVE_NOT_FOR_US' 5 || wait_for "$TMP/kea-ha2.log" 'HA_BUFFER4_RECEIVE_NOT_FOR_US' 5
    stop kea_ha2
    # Alone now: the survivor notices its partner is gone.
    wait_for "$TMP/kea-ha1.log" 'HA_STATE_TRANSITION server transitions from LOAD-BALANCING to' 30
    stop kea_ha1
    kea_keep "$TMP/kea-ha1.log" kea-2.2-ha-server1.log
    kea_keep "$TMP/kea-ha2.log" kea-2.2-ha-server2.log
}

# ---------------------------------------------------------------- dnsmasq 2.90
# start_dnsmasq LOGFACILITY RANGE [ARGS...]
start_dnsmasq() {
    local facility=$1 range=$2
    shift 2
    : >"$TMP/dnsmasq.leases"
    start dnsmasq "$NS_S" dnsmasq --no-daemon --log-dhcp --log-facility="$facility" -C /dev/null \
        --port=0 --interface=s0 --dhcp-range="$range" --dhcp-leasefile="$TMP/dnsmasq.leases" \
        --pid-file="$TMP/dnsmasq.pid" "$@"
}

group_dnsmasq() {
    # A: authoritative, two addresses, one ignored host; log to stderr.
    start_dnsmasq - 10.77.0.50,10.77.0.51,255.255.255.0,10m --dhcp-authoritative \
        --dhcp-host=02:00:00:00:0a:07,ignore
    wait_for "$TMP/dnsmasq.out" 'DHCP, IP range'
    dhclient_conf 10
    rm -f "$TMP/dhclient.leases"
    start dhclient "$NS_C" dhclient $(DHCLIENT_ARGS) c0
    wait_for "$TMP/dhclient.out" '^bound to'
    stop dhclient
    C dhclient $(DHCLIENT_ARGS) -r c0 >/dev/null 2>&1
    wait_for "$TMP/dnsmasq.out" 'DHCPRELEASE'
    C $CRAFT dora --mac 02:00:00:00:0a:01 --xid 0x0a010001
    C $CRAFT dora --mac 02:00:00:00:0a:02 --xid 0x0a020001 --client-id 01020000000a02
    C $CRAFT discover --mac 02:00:00:00:0a:03 --xid 0x0a030001 --wait 1
    C $CRAFT discover --mac 02:00:00:00:0a:04 --xid 0x0a040001 --giaddr 10.99.0.1 --dst 10.77.0.1
    C $CRAFT request --mac 02:00:00:00:0a:05 --xid 0x0a050001 --ip 192.168.5.5 --wait 1
    C $CRAFT request --mac 02:00:00:00:0a:06 --xid 0x0a060001 --ip 10.77.0.50 --server-id 10.77.0.99 --wait 1
    C $CRAFT discover --mac 02:00:00:00:0a:07 --xid 0x0a070001 --wait 1
    C $CRAFT decline --mac 02:00:00:00:0a:01 --xid 0x0a010002 --ip 10.77.0.51 --server-id 10.77.0.1
    wait_for "$TMP/dnsmasq.out" 'DHCPDECLINE'
    stop dnsmasq
    keep "$TMP/dnsmasq.out" dnsmasq-2.90-authoritative.log

    # C: one lease at most (--dhcp-lease-max=1), and a host whose configured address is
    # leased under another client id: no leases left, wrong address, not using
    # configured address.
    start_dnsmasq - 10.77.0.50,10.77.0.60,255.255.255.0,10m --dhcp-authoritative \
        --dhcp-lease-max=2 --dhcp-host=02:00:00:00:0c:11,10.77.0.55
    wait_for "$TMP/dnsmasq.out" 'DHCP, IP range'
    C $CRAFT dora --mac 02:00:00:00:0c:11 --xid 0x0c110001 --client-id 0102000000000c11
    C $CRAFT dora --mac 02:00:00:00:0c:12 --xid 0x0c120001
    C $CRAFT request --mac 02:00:00:00:0c:12 --xid 0x0c120002 --ip 10.77.0.57 --wait 1
    C $CRAFT request --mac 02:00:00:00:0c:13 --xid 0x0c130001 --ip 10.77.0.58 --wait 1
    C $CRAFT discover --mac 02:00:00:00:0c:11 --xid 0x0c110002 --client-id 0102000000000c11ff --wait 1
    wait_for "$TMP/dnsmasq.out" '0c130001|DHCPNAK.*0c:13' 5 || true
    stop dnsmasq
    keep "$TMP/dnsmasq.out" dnsmasq-2.90-lease-max.log

    # B: a range for another network than the interface's; log to a file.
    start_dnsmasq "$TMP/dnsmasq.log" 10.88.0.50,10.88.0.51,255.255.255.0,10m
    wait_for "$TMP/dnsmasq.log" 'DHCP, IP range'
    C $CRAFT discover --mac 02:00:00:00:0e:01 --xid 0x0e010001 --wait 1
    wait_for "$TMP/dnsmasq.log" 'no address range available'
    stop dnsmasq
    keep "$TMP/dnsmasq.log" dnsmasq-2.90-no-range.log
}

# ---------------------------------------------------------------- clients
group_clients() {
    # dhclient with no server at all, meanwhile 6 frames with a wrong UDP checksum arrive.
    dhclient_conf 6
    rm -f "$TMP/dhclient.leases"
    start dhclient "$NS_C" dhclient $(DHCLIENT_ARGS) -1 c0
    wait_for "$TMP/dhclient.out" '^DHCPDISCOVER on c0'
    S $CRAFT badsum --iface s0 --mac 02:00:00:00:0b:0b --count 6
    wait_for "$TMP/dhclient.out" 'No DHCPOFFERS|Unable to obtain' 20
    wait "$PID_dhclient" || true
    keep "$TMP/dhclient.out" dhclient-4.4-bad-checksums.log

    # udhcpc (busybox) against dnsmasq: a lease, then with no server: failing.
    start_dnsmasq - 10.77.0.50,10.77.0.51,255.255.255.0,10m --dhcp-authoritative
    wait_for "$TMP/dnsmasq.out" 'DHCP, IP range'
    C busybox udhcpc -f -q -i c0 -s /bin/true -t 3 -T 1 >"$TMP/udhcpc.out" 2>&1
    stop dnsmasq
    C busybox udhcpc -f -n -i c0 -s /bin/true -t 2 -T 1 >>"$TMP/udhcpc.out" 2>&1 || true
    keep "$TMP/udhcpc.out" udhcpc-1.35.log

    # dhcpcd 9, in its own mount namespace so that its state stays in $TMP.
    start_dnsmasq - 10.77.0.50,10.77.0.51,255.255.255.0,10m --dhcp-authoritative
    wait_for "$TMP/dnsmasq.out" 'DHCP, IP range'
    mkdir -p "$TMP/dhcpcd-db"
    # Private mounts: a tmpfs on /run and $TMP over /var/lib/dhcpcd, so nothing of
    # dhcpcd's state lands on the host's file systems.
    C unshare -m --propagation private sh -c "mount -n -t tmpfs tmpfs /run && mkdir /run/dhcpcd && \
        mount -n --bind $TMP/dhcpcd-db /var/lib/dhcpcd && \
        dhcpcd -4 -B -d -1 -t 10 -c /bin/true -f /dev/null --noipv4ll --nohook resolv.conf c0" \
        >"$TMP/dhcpcd.out" 2>&1 || true
    stop dnsmasq
    ip -n "$NS_C" addr del 10.77.0.50/24 dev c0 2>/dev/null || true
    ip -n "$NS_C" route del default 2>/dev/null || true
    keep "$TMP/dhcpcd.out" dhcpcd-9.4.log
}
# ---------------------------------------------------------------- framings
# private_ns NAME HOLDER...: a mount namespace inside the server's network namespace,
# with its own tmpfs /run, /dev (null, zero, random and urandom bound from the real one),
# /var/log/journal and cgroup2 (journald needs one), so that /dev/log and the journal
# exist only there. HOLDER, a syslog daemon, is exec'ed last and keeps the namespace
# alive; $PID_NAME is its pid.
private_ns() {
    local name=$1
    shift
    mkdir -p "$TMP/olddev"
    start "$name" "$NS_S" unshare -m --propagation private sh -c "
        mount -n -t tmpfs tmpfs /run &&
        mount -n --bind /dev $TMP/olddev && mount -n -t tmpfs tmpfs /dev &&
        for n in null zero random urandom; do touch /dev/\$n; mount -n --bind $TMP/olddev/\$n /dev/\$n; done &&
        mount -n -t tmpfs tmpfs /var/log/journal &&
        mount -n -t cgroup2 cgroup2 /sys/fs/cgroup &&
        exec \"\$@\"" sh "$@"
}

# inside PID CMD...: run CMD in PID's mount and network namespaces, in the background.
inside() {
    local name=$1 pid=$2
    shift 2
    nsenter -t "$pid" -m -n "$@" >"$TMP/$name.out" 2>&1 &
    PIDS+=("$!")
    eval "PID_$name=$!"
}

framing_traffic() { # what every framing records: min-secs drops, then a lease
    C $CRAFT discover --mac 02:00:00:00:1f:01 --xid 0x1f010001 --secs 0 --wait 0.5
    C $CRAFT discover --mac 02:00:00:00:1f:01 --xid 0x1f010001 --secs 0 --wait 0.5
    C $CRAFT dora --mac 02:00:00:00:1f:01 --xid 0x1f010002 --secs 3
}

group_framing() {
    # 1. RFC 3164 through syslog(3) and busybox syslogd: dhcpd, then dnsmasq, then Kea.
    private_ns syslogd busybox syslogd -n -O "$TMP/syslog.txt"
    wait_for "$TMP/syslog.txt" 'syslogd started'
    dhcpd_conf "authoritative;" "min-secs 2;"
    inside dhcpd "$PID_syslogd" dhcpd -4 -f -cf "$TMP/dhcpd.conf" -lf "$TMP/dhcpd.leases" -pf "$TMP/dhcpd.pid" s0
    wait_for "$TMP/syslog.txt" 'Server starting service'
    framing_traffic
    wait_for "$TMP/syslog.txt" 'DHCPACK on .* to 02:00:00:00:1f:01'
    stop dhcpd
    : >"$TMP/dnsmasq.leases"
    inside dnsmasq "$PID_syslogd" dnsmasq --keep-in-foreground --log-dhcp -C /dev/null --port=0 \
        --interface=s0 --dhcp-range=10.77.0.50,10.77.0.51,10m --dhcp-leasefile="$TMP/dnsmasq.leases" \
        --pid-file="$TMP/dnsmasq.pid" --dhcp-authoritative
    wait_for "$TMP/syslog.txt" 'DHCP, IP range'
    C $CRAFT dora --mac 02:00:00:00:1f:02 --xid 0x1f020001
    C $CRAFT request --mac 02:00:00:00:1f:03 --xid 0x1f030001 --ip 192.168.5.5 --wait 1
    wait_for "$TMP/syslog.txt" 'wrong network'
    stop dnsmasq
    kea_conf true 10.77.0.0/24 "10.77.0.50 - 10.77.0.51"
    sed -i "s#\"output\": \"$TMP/kea.log\"#\"output\": \"syslog\"#; s#\"severity\": \"DEBUG\", \"debuglevel\": 99#\"severity\": \"INFO\"#" "$TMP/kea.json"
    inside kea "$PID_syslogd" env KEA_PIDFILE_DIR="$TMP" KEA_LOCKFILE_DIR="$TMP" kea-dhcp4 -c "$TMP/kea.json"
    wait_for "$TMP/syslog.txt" 'DHCP4_STARTED'
    C $CRAFT dora --mac 02:00:00:00:1f:04 --xid 0x1f040001
    C $CRAFT request --mac 02:00:00:00:1f:05 --xid 0x1f050001 --ip 192.168.5.5 --wait 1
    wait_for "$TMP/syslog.txt" 'DHCP4_PACKET_NAK_0002'
    stop kea
    stop syslogd
    keep "$TMP/syslog.txt" syslog-busybox-rfc3164.log

    # 2. The same through systemd-journald, read back with journalctl -o short-iso and json.
    private_ns journald /lib/systemd/systemd-journald
    sleep_until_socket() { local i=0; until nsenter -t "$PID_journald" -m test -S /run/systemd/journal/dev-log; do i=$((i+1)); if [ $i -gt 100 ]; then cat "$TMP/journald.out" >&2; return 1; fi; sleep 0.1; done; }
    sleep_until_socket
    nsenter -t "$PID_journald" -m ln -s /run/systemd/journal/dev-log /dev/log
    dhcpd_conf "authoritative;" "min-secs 2;"
    inside dhcpd "$PID_journald" dhcpd -4 -f -cf "$TMP/dhcpd.conf" -lf "$TMP/dhcpd.leases" -pf "$TMP/dhcpd.pid" s0
    jq_wait() { local i=0; until nsenter -t "$PID_journald" -m journalctl --no-pager -q | grep -Eq "$1"; do i=$((i+1)); [ $i -gt 150 ] && return 1; sleep 0.1; done; }
    jq_wait 'Server starting service'
    framing_traffic
    jq_wait 'DHCPACK on .* to 02:00:00:00:1f:01'
    stop dhcpd
    : >"$TMP/dnsmasq.leases"
    inside dnsmasq "$PID_journald" dnsmasq --keep-in-foreground --log-dhcp -C /dev/null --port=0 \
        --interface=s0 --dhcp-range=10.77.0.50,10.77.0.50,10m --dhcp-leasefile="$TMP/dnsmasq.leases" \
        --pid-file="$TMP/dnsmasq.pid" --dhcp-authoritative
    jq_wait 'DHCP, IP range'
    C $CRAFT dora --mac 02:00:00:00:1f:02 --xid 0x1f020001
    C $CRAFT discover --mac 02:00:00:00:1f:03 --xid 0x1f030001 --wait 1
    jq_wait 'no address available'
    stop dnsmasq
    nsenter -t "$PID_journald" -m journalctl --no-pager -o short-iso \
        SYSLOG_IDENTIFIER=dhcpd + SYSLOG_IDENTIFIER=dnsmasq-dhcp >"$TMP/journal-short-iso.txt"
    nsenter -t "$PID_journald" -m journalctl --no-pager -o json \
        SYSLOG_IDENTIFIER=dhcpd + SYSLOG_IDENTIFIER=dnsmasq-dhcp >"$TMP/journal.json"
    stop journald
    keep "$TMP/journal-short-iso.txt" journalctl-short-iso.log
    keep "$TMP/journal.json" journalctl-json.log

    # 3. RFC 5424 as util-linux logger sends it, caught by a UDP listener on loopback.
    S python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5514))
print("ready", flush=True)
s.settimeout(5)
with open(sys.argv[1], "wb") as f:
    try:
        while True:
            f.write(s.recvfrom(65535)[0].rstrip(b"\n") + b"\n")
            f.flush()
    except socket.timeout:
        pass
' "$TMP/rfc5424.txt" >"$TMP/listener.out" 2>&1 &
    local listener=$!
    PIDS+=("$listener")
    wait_for "$TMP/listener.out" ready
    grep -E 'DHCP(DISCOVER|OFFER|REQUEST|ACK)' "$OUT/dhcpd-4.4-min-secs.log" | while IFS= read -r line; do
        S logger --rfc5424 -d -n 127.0.0.1 -P 5514 -t dhcpd -p daemon.info --id=4242 -- "$line"
    done
    wait "$listener" || true
    keep "$TMP/rfc5424.txt" logger-rfc5424.log
}

net_up
groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(dhcpd failover kea kea_ha dnsmasq clients framing)
for g in "${groups[@]}"; do
    "group_$g"
done
