//! The lab's scenarios, each reproduced for real against installed software.
//! They run in parallel (one test each); see `lab::scenarios` for what each
//! one checks.

use lab::scenarios::test;

#[test]
fn healthy_dhcpd() {
    test("healthy-dhcpd");
}

#[test]
fn healthy_kea() {
    test("healthy-kea");
}

#[test]
fn healthy_dnsmasq() {
    test("healthy-dnsmasq");
}

#[test]
fn min_secs() {
    test("min-secs");
}

#[test]
fn partial_checksum() {
    test("partial-checksum");
}

#[test]
fn partial_checksum_fixed() {
    test("partial-checksum-fixed");
}

#[test]
fn partial_checksum_tolerant() {
    test("partial-checksum-tolerant");
}

#[test]
fn pool_exhausted() {
    test("pool-exhausted");
}

#[test]
fn init_reboot_wrong_network() {
    test("init-reboot-wrong-network");
}

#[test]
fn rogue_server() {
    test("rogue-server");
}

#[test]
fn relay() {
    test("relay");
}

#[test]
fn renew_rebind_release() {
    test("renew-rebind-release");
}

#[test]
fn decline() {
    test("decline");
}

#[test]
fn vlan_trunk() {
    test("vlan-trunk");
}

#[test]
fn every_scenario_has_a_test() {
    let src = include_str!("scenarios.rs");
    for s in lab::scenarios::ALL {
        assert!(
            src.contains(&format!("test(\"{}\")", s.name)),
            "{} has no test",
            s.name
        );
    }
}

#[test]
fn ack_lost() {
    test("ack-lost");
}

#[test]
fn pxe_boot_server_silent() {
    test("pxe-boot-server-silent");
}

#[test]
fn pxe_boot_menu_no_server() {
    test("pxe-boot-menu-no-server");
}

#[test]
fn pxe_boot_search_plain_ack() {
    test("pxe-boot-search-plain-ack");
}

#[test]
fn stp_port_not_forwarding() {
    test("stp-port-not-forwarding");
}

#[test]
fn serve_min_secs() {
    test("serve-min-secs");
}
