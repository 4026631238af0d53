//! The lab's own machinery: namespaces, links, sockets, teardown, sweep.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use capture::live::{Direction, Options};
use lab::{net, Tool};
use wire::frame::{ChecksumMode, UdpFrame};

fn ns_exists(name: &str) -> bool {
    Path::new("/run/netns").join(name).exists()
}

#[test]
fn a_network_is_torn_down_on_drop_with_its_processes() {
    let lab = lab::require!("teardown");
    let mut n = lab.network();
    let lan = n.add_link("lan").unwrap();
    let h = n.add_host_on("box", lan, Some(net("10.9.0.1/24"))).unwrap();
    let names: Vec<String> = vec![
        n.host(h).ns().name().to_string(),
        n.link(lan).ns().name().to_string(),
    ];
    assert!(names.iter().all(|n| ns_exists(n)), "{names:?}");
    // A process left running in the host namespace, not owned by any handle.
    let mut c = n.host(h).ns().command("sleep");
    c.arg("600");
    let child = c.spawn().unwrap();
    let pid = child.id() as i32;
    std::mem::forget(child);
    // `ip netns exec` enters the namespace just after spawn() returns.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !n.host(h).ns().pids().contains(&pid) {
        assert!(
            std::time::Instant::now() < deadline,
            "sleep {pid} never entered {}",
            names[0]
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(n);
    assert!(names.iter().all(|n| !ns_exists(n)), "{names:?} still exist");
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z ")),
        "sleep {pid} survived"
    );
}

#[test]
fn a_panicking_test_still_tears_down() {
    let lab = lab::require!("teardown-panic");
    let (tx, rx) = std::sync::mpsc::channel();
    let r = std::thread::spawn(move || {
        let mut n = lab.network();
        let lan = n.add_link("lan").unwrap();
        let h = n.add_host_on("box", lan, None).unwrap();
        tx.send(n.host(h).ns().name().to_string()).unwrap();
        panic!("on purpose");
    })
    .join();
    assert!(r.is_err());
    let name = rx.recv().unwrap();
    assert!(!ns_exists(&name), "{name} survived the panic");
}

#[test]
fn stale_namespaces_of_dead_runs_are_swept_and_others_left_alone() {
    let _lab = lab::require!("sweep");
    // A pid that surely is dead: a child that has exited and been reaped.
    let mut c = Command::new("true").spawn().unwrap();
    let dead = c.id();
    c.wait().unwrap();
    let stale = format!("dlab-{dead}-0-leftover");
    // Our own pid, reused: another start time than ours.
    let me = std::process::id();
    let reused = format!("dlab-{me}.1-0-reused");
    let foreign = format!("dlabx-{dead}-0-notours");
    for n in [&stale, &reused, &foreign] {
        assert!(Command::new("ip")
            .args(["netns", "add", n])
            .status()
            .unwrap()
            .success());
    }
    let removed = lab::netns::sweep_stale();
    let foreign_survived = ns_exists(&foreign);
    let left: Vec<&String> = [&stale, &reused]
        .into_iter()
        .filter(|n| ns_exists(n))
        .collect();
    // Nothing of this test outlives it, whatever the outcome.
    for n in [&stale, &reused, &foreign] {
        let _ = Command::new("ip")
            .args(["netns", "del", n])
            .stderr(std::process::Stdio::null())
            .status();
    }
    assert!(removed.contains(&stale), "{removed:?}");
    assert!(removed.contains(&reused), "{removed:?}");
    assert!(left.is_empty(), "{left:?} survived the sweep");
    assert!(
        !removed.iter().any(|n| n.starts_with(&_lab.ns_prefix())),
        "{removed:?}"
    );
    assert!(
        foreign_survived,
        "a namespace without our prefix was removed"
    );
}

#[test]
fn packet_sockets_opened_in_namespaces_talk_over_the_link() {
    let lab = lab::require!("sockets");
    let mut n = lab.network();
    let lan = n.add_link("lan").unwrap();
    let a = n.add_host_on("a", lan, None).unwrap();
    let b = n.add_host_on("b", lan, None).unwrap();
    let sa = n.host(a).packet_socket("eth0", Options::default()).unwrap();
    let sb = n.host(b).packet_socket("eth0", Options::default()).unwrap();
    assert_eq!(sa.mac(), n.host(a).iface(0).mac);
    assert_eq!(n.host(a).iface(0).mac[3], lab.mac_id());
    let payload = [0x42u8; 300];
    let mut f = UdpFrame::new(
        (Ipv4Addr::UNSPECIFIED, 68),
        (Ipv4Addr::BROADCAST, 67),
        &payload,
    );
    f.src_mac = sa.mac();
    f.checksum = ChecksumMode::Full;
    sa.send(&f.ethernet_frame()).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let p = sb.recv(Some(left)).unwrap().expect("b receives a's frame");
        if p.direction == Direction::Outgoing {
            continue;
        }
        assert_eq!(&p.data[6..12], &sa.mac());
        break;
    }
}

#[test]
fn veth_transmit_checksum_offload_is_on() {
    let lab = lab::require!("offload", Tool::Ethtool);
    let mut n = lab.network();
    let lan = n.add_link("lan").unwrap();
    let a = n.add_host_on("a", lan, None).unwrap();
    let out = n.host(a).ns().run("ethtool", &["-k", "eth0"]).unwrap();
    assert!(
        out.lines()
            .any(|l| l.trim() == "tx-checksum-ip-generic: on"),
        "{out}"
    );
}
