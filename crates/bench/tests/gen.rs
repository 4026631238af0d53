//! The generator: determinism, the mix as dhcplens's engine diagnoses it, and
//! results that do not depend on how the input is cut into reads.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read};

use bench::gen::{generate, Config, Format, Scenario, Stats};
use bench::rng::Rng;
use diagnose::{Config as EngineConfig, Engine, FrameRef, Obs, Outcome, Report, Sink, Summary};

fn capture(cfg: &Config) -> (Vec<u8>, Stats, Vec<(String, Scenario)>) {
    let mut bytes = Vec::new();
    let mut manifest = Vec::new();
    let stats = generate(cfg, &mut bytes, Some(&mut manifest)).expect("generate");
    let manifest = String::from_utf8(manifest).expect("utf-8");
    let rows = manifest
        .lines()
        .skip(1)
        .map(|l| {
            let mut f = l.split(',');
            let mac = f.next().expect("mac").to_string();
            let s = Scenario::parse(f.next().expect("scenario")).expect("known scenario");
            (mac, s)
        })
        .collect();
    (bytes, stats, rows)
}

/// Collects the transactions as the CLI streams them.
#[derive(Default)]
struct Collect(Vec<String>);

impl Sink for Collect {
    fn transaction(&mut self, s: &Summary) {
        self.0.push(serde_json::to_string(s).expect("json"));
    }
}

/// Runs the diagnosis engine over a capture read from `input`, as `dhcplens
/// diagnose` does; returns the report and the JSON document the CLI would print
/// (transactions as they settle, then clients, findings, servers, stats).
fn diagnose(input: impl Read + Send + 'static) -> (Report, String) {
    let mut reader =
        capture::Reader::new(Box::new(input) as Box<dyn Read + Send>).expect("a capture");
    let cfg = EngineConfig {
        files: vec!["bench.pcap".into()],
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(cfg, Collect::default());
    while let Some(p) = reader.next_packet().expect("readable") {
        let at = FrameRef {
            file: 0,
            frame: p.number,
        };
        if let Some(plain) = wire::plain::read(p.link, p.data, p.orig_len) {
            engine.push(Obs::from_plain(at, p.timestamp, &plain));
        } else if let Ok(Some(d)) = wire::packet::decode(p.link, p.data, p.orig_len) {
            if let Some(o) = Obs::new(at, p.timestamp, &d, None) {
                engine.push(o);
            }
        }
    }
    let (report, sink) = engine.finish();
    let json = format!(
        "{{\"transactions\":[{}],\"clients\":{},\"findings\":{},\"servers\":{},\"stats\":{}}}",
        sink.0.join(","),
        serde_json::to_string(&report.clients).expect("json"),
        serde_json::to_string(&report.findings_json()).expect("json"),
        serde_json::to_string(&report.servers).expect("json"),
        serde_json::to_string(&report.stats).expect("json"),
    );
    (report, json)
}

/// A reader that returns at most `max` bytes per call, a random number each time.
struct Chunky {
    data: Vec<u8>,
    at: usize,
    max: usize,
    rng: Rng,
}

impl Read for Chunky {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.data.len() - self.at;
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let n = (1 + self.rng.below(self.max as u64) as usize)
            .min(left)
            .min(buf.len());
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn small(clients: u64, seed: u64) -> Config {
    let mut c = Config::new(clients);
    c.seed = seed;
    c
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    for format in [Format::Pcap, Format::Pcapng] {
        let mut cfg = small(1_500, 7);
        cfg.format = format;
        let (a, sa, _) = capture(&cfg);
        let (b, sb, _) = capture(&cfg);
        assert_eq!(sa, sb);
        assert!(a == b, "{format:?}: same seed, different bytes");
        cfg.seed = 8;
        let (c, _, _) = capture(&cfg);
        assert!(a != c, "{format:?}: another seed gave the same bytes");
    }
}

#[test]
fn macs_are_unique_and_xids_belong_to_one_client() {
    let (bytes, stats, rows) = capture(&small(5_000, 3));
    let macs: HashSet<&str> = rows.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(macs.len() as u64, stats.clients);
    let mut owner: HashMap<u32, wire::HwAddr> = HashMap::new();
    let mut reader = capture::Reader::new(&bytes[..]).expect("a capture");
    let mut n = 0;
    while let Some(p) = reader.next_packet().expect("readable") {
        let d = wire::packet::decode(p.link, p.data, p.orig_len)
            .expect("UDP")
            .expect("DHCP");
        let m = d.message.expect("a message");
        assert!(
            d.anomalies.is_empty(),
            "frame {}: {:?}",
            p.number,
            d.anomalies
        );
        let chaddr = m.chaddr();
        assert_eq!(
            *owner.entry(m.xid).or_insert(chaddr),
            chaddr,
            "xid {:#x}",
            m.xid
        );
        n += 1;
    }
    assert_eq!(n, stats.packets);
}

/// What dhcplens must conclude for each client, by the generator's intent.
fn expected_outcome(s: Scenario) -> Outcome {
    match s {
        Scenario::Renew => Outcome::Renewed,
        Scenario::NoOffer => Outcome::NoOffer,
        Scenario::OfferIgnored => Outcome::OfferIgnored,
        // A NAKed client starts over and gets a lease.
        _ => Outcome::Bound,
    }
}

fn expected_findings(s: Scenario) -> Vec<&'static str> {
    let mut v = match s {
        Scenario::MultipleServers => vec!["multiple-servers"],
        Scenario::Nak => vec!["nak"],
        Scenario::NoOffer => vec!["no-offer", "secs-not-incrementing"],
        Scenario::OfferIgnored => vec!["offer-ignored", "udp-checksum-partial"],
        _ => vec![],
    };
    v.sort_unstable();
    v
}

#[test]
fn the_engine_finds_every_intended_failure_and_nothing_else() {
    // A high failure rate so that each kind has dozens of clients.
    let mut cfg = small(3_000, 11);
    cfg.failure_rate = 0.2;
    let (bytes, stats, rows) = capture(&cfg);
    let (report, _) = diagnose(io::Cursor::new(bytes));
    assert_eq!(report.stats.packets, stats.packets);
    assert_eq!(report.stats.clients, stats.clients);

    let intent: HashMap<&str, Scenario> = rows.iter().map(|(m, s)| (m.as_str(), *s)).collect();
    let mut per_scenario: HashMap<Scenario, u64> = HashMap::new();
    for c in &report.clients {
        let mac = c.chaddr.to_string();
        let s = *intent.get(mac.as_str()).expect("client in the manifest");
        *per_scenario.entry(s).or_default() += 1;
        assert_eq!(c.outcome(), Some(expected_outcome(s)), "{mac} ({s:?})");
        let mut found: Vec<&str> = c.finding_codes();
        found.sort_unstable();
        assert_eq!(found, expected_findings(s), "{mac} ({s:?})");
        let outcomes: Vec<Outcome> = c.outcomes().iter().collect();
        assert_eq!(
            outcomes.contains(&Outcome::Nak),
            s == Scenario::Nak,
            "{mac} ({s:?}): {outcomes:?}"
        );
    }
    for s in Scenario::ALL {
        let n = per_scenario.get(&s).copied().unwrap_or(0);
        assert_eq!(n, stats.scenario(s), "{s:?}");
        assert!(n > 0, "no client in scenario {s:?}");
    }
    // Findings over the whole report: one per failing client.
    let count = |code: &str| {
        report
            .findings()
            .filter(|f| f.code.as_str() == code)
            .count() as u64
    };
    assert_eq!(count("no-offer"), stats.scenario(Scenario::NoOffer));
    assert_eq!(
        count("secs-not-incrementing"),
        stats.scenario(Scenario::NoOffer)
    );
    assert_eq!(
        count("offer-ignored"),
        stats.scenario(Scenario::OfferIgnored)
    );
    assert_eq!(
        count("udp-checksum-partial"),
        stats.scenario(Scenario::OfferIgnored)
    );
    assert_eq!(
        count("multiple-servers"),
        stats.scenario(Scenario::MultipleServers)
    );
    assert_eq!(count("nak"), stats.scenario(Scenario::Nak));
    assert_eq!(
        report.findings().count() as u64,
        2 * stats.scenario(Scenario::NoOffer)
            + 2 * stats.scenario(Scenario::OfferIgnored)
            + stats.scenario(Scenario::MultipleServers)
            + stats.scenario(Scenario::Nak)
    );
}

/// Issue 7: results identical whatever the input size or chunking.
#[test]
fn diagnosis_is_the_same_whole_or_in_pieces() {
    let mut cfg = small(1_200, 5);
    cfg.failure_rate = 0.2;
    let (bytes, _, _) = capture(&cfg);
    let (_, whole) = diagnose(io::Cursor::new(bytes.clone()));
    for (max, seed) in [(1, 1), (7, 2), (1_000, 3), (70_000, 4)] {
        let chunky = Chunky {
            data: bytes.clone(),
            at: 0,
            max,
            rng: Rng::new(seed),
        };
        let (_, pieces) = diagnose(chunky);
        assert!(
            canonical(&pieces) == canonical(&whole),
            "reads of at most {max} bytes changed the diagnosis"
        );
    }
    // The same capture as pcapng: the same diagnosis.
    cfg.format = Format::Pcapng;
    let (ng, _, _) = capture(&cfg);
    assert_ne!(ng, bytes);
    let (_, from_ng) = diagnose(io::Cursor::new(ng));
    assert!(
        canonical(&from_ng) == canonical(&whole),
        "pcapng and pcap diagnosed differently"
    );
}

/// The diagnosis with the order of the streamed transactions and the last
/// bits of floating-point sums taken out: the engine closes the transactions
/// of one sweep in `HashMap` order, which differs between engine instances
/// (see `engine_output_is_byte_for_byte_deterministic`).
fn canonical(json: &str) -> String {
    fn round(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Number(n) if n.is_f64() => {
                let x = n.as_f64().expect("f64");
                *v = serde_json::Value::String(format!("{x:.9e}"));
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(round),
            serde_json::Value::Object(o) => o.values_mut().for_each(round),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(json).expect("json");
    round(&mut v);
    if let Some(serde_json::Value::Array(t)) = v.get_mut("transactions") {
        t.sort_by_key(|x| x.to_string());
    }
    v.to_string()
}

/// Two engines fed the same packets give byte-for-byte the same output
/// (regression: `Engine::sweep` closed what was over in `HashMap` order).
#[test]

fn engine_output_is_byte_for_byte_deterministic() {
    let (bytes, _, _) = capture(&small(1_200, 5));
    let (_, a) = diagnose(io::Cursor::new(bytes.clone()));
    let (_, b) = diagnose(io::Cursor::new(bytes));
    assert!(
        a == b,
        "two runs over the same capture printed different JSON"
    );
}

/// The generator's memory follows the clients active at once, not the total.
#[test]
fn active_clients_do_not_grow_with_the_number_of_clients() {
    let run = |clients: u64| {
        let mut c = small(clients, 9);
        c.rate = 200.0;
        generate(&c, io::sink(), None).expect("generate")
    };
    let a = run(8_000);
    let b = run(24_000);
    assert_eq!(b.clients, 24_000);
    assert!(
        b.max_active <= a.max_active + a.max_active / 3,
        "max active {} for 8000 clients, {} for 24000",
        a.max_active,
        b.max_active
    );
}

#[test]
fn packets_alone_picks_enough_clients_and_cuts_exactly() {
    let p = 20_000;
    let mut c = Config::new(Config::clients_for_packets(p, 0.05));
    c.max_packets = Some(p);
    let s = generate(&c, io::sink(), None).expect("generate");
    assert_eq!(s.packets, p, "ran out of clients before {p} packets");
}

/// `dhcplens-bench stages`: every stage reads the same frames, and the later
/// stages see the DHCP packets the decoder found.
#[test]
fn stages_see_the_same_packets() {
    let (bytes, stats, _) = capture(&Config::new(300));
    let dir = std::env::temp_dir().join(format!("dhcplens-stages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("small.pcap");
    std::fs::write(&file, &bytes).expect("write capture");
    let mut log = Vec::new();
    let stages = bench::stages::stages(&file, 1, None, &mut log);
    std::fs::remove_dir_all(&dir).ok();
    let stages = stages.expect("stages");
    let names: Vec<&str> = stages.iter().map(|s| s.name).collect();
    assert_eq!(names, ["read", "decode", "observe", "analyse", "report"]);
    for s in &stages {
        assert_eq!(s.frames, stats.packets, "{}", s.name);
    }
    assert_eq!(stages[0].dhcp, 0, "read decodes nothing");
    assert_eq!(
        stages[1].dhcp, stats.packets,
        "every generated frame is DHCP"
    );
    assert_eq!(stages[2].dhcp, stats.packets);
    assert_eq!(stages[3].dhcp, stats.packets);
    assert_eq!(stages[4].dhcp, stats.packets);
    let mut table = Vec::new();
    bench::stages::print(&stages, &mut table).expect("print");
    let table = String::from_utf8(table).expect("utf-8");
    assert!(table.starts_with("stage"), "{table}");
    assert_eq!(table.lines().count(), 6, "{table}");
}

/// With a population, arrivals are the same machines coming back: each MAC
/// arrives as often as the others (give or take one), with the same scenario,
/// and the engine sees exactly that many clients.
#[test]
fn a_population_comes_back() {
    let mut cfg = small(1_200, 3);
    cfg.population = Some(300);
    cfg.rate = 50.0; // a machine's visits do not overlap
    let (bytes, stats, rows) = capture(&cfg);
    assert_eq!(stats.clients, 1_200);
    let mut visits: HashMap<&str, Vec<Scenario>> = HashMap::new();
    for (mac, s) in &rows {
        visits.entry(mac.as_str()).or_default().push(*s);
    }
    assert_eq!(visits.len(), 300, "distinct machines");
    for (mac, v) in &visits {
        assert_eq!(v.len(), 4, "{mac} arrived {} times", v.len());
        assert!(
            v.iter().all(|s| *s == v[0]),
            "{mac} changed scenario: {v:?}"
        );
    }
    let (report, _) = diagnose(io::Cursor::new(bytes));
    assert_eq!(report.clients.len(), 300);
    assert!(
        report
            .clients
            .iter()
            .map(|c| u64::from(c.transactions))
            .sum::<u64>()
            >= 1_200,
        "every visit is at least one transaction"
    );
}

/// Issue 4/7: memory is bounded by what is open. Over 100 s of traffic from
/// 20,000 clients, the engine holds only the transactions of the last few
/// seconds (and the failures' idle minute), not one per client or packet.
#[test]
fn open_transactions_stay_bounded_by_time_not_clients() {
    let mut cfg = small(20_000, 11);
    cfg.rate = 200.0;
    let (bytes, stats, _) = capture(&cfg);
    let mut reader = capture::Reader::new(Box::new(io::Cursor::new(bytes)) as Box<dyn Read + Send>)
        .expect("a capture");
    let mut engine = Engine::new(EngineConfig::default(), diagnose::NoSink);
    let (mut most, mut packets) = (0, 0u64);
    while let Some(p) = reader.next_packet().expect("readable") {
        if let Ok(Some(d)) = wire::packet::decode(p.link, p.data, p.orig_len) {
            let at = FrameRef {
                file: 0,
                frame: p.number,
            };
            if let Some(o) = Obs::new(at, p.timestamp, &d, None) {
                engine.push(o);
                packets += 1;
                most = most.max(engine.open_transactions());
            }
        }
    }
    assert!(packets > 70_000, "{packets} packets");
    // 200 new clients a second, done within ~3 s; 5 % failing stay open for
    // the 60 s idle window: about 600 + 600.
    assert!(
        most < 2_000,
        "{most} transactions open at once ({} clients)",
        stats.clients
    );
    let report = engine.finish().0;
    assert_eq!(report.clients.len(), 20_000);
}

/// Issue 7: the fast path reads the generated traffic as the decoder does
/// (the observations are equal), and reads nearly all of it.
#[test]
fn the_fast_path_reads_generated_captures_as_the_decoder_does() {
    let (bytes, _, _) = capture(&small(2_000, 5));
    let mut reader = capture::Reader::new(Box::new(io::Cursor::new(bytes)) as Box<dyn Read + Send>)
        .expect("a capture");
    let (mut fast, mut all) = (0, 0);
    while let Some(p) = reader.next_packet().expect("readable") {
        let at = FrameRef {
            file: 0,
            frame: p.number,
        };
        let Ok(Some(d)) = wire::packet::decode(p.link, p.data, p.orig_len) else {
            continue;
        };
        let general = Obs::new(at, p.timestamp, &d, None).expect("a whole header");
        all += 1;
        if let Some(plain) = wire::plain::read(p.link, p.data, p.orig_len) {
            assert_eq!(
                Obs::from_plain(at, p.timestamp, &plain),
                general,
                "frame {}",
                p.number
            );
            fast += 1;
        }
    }
    assert!(fast * 100 >= all * 99, "{fast} of {all} packets read fast");
}
