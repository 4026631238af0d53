//! `diagnose --html` in a real browser: headless Chromium renders the report
//! of example captures; the DOM it builds is checked against what `diagnose
//! --json` and `decode --json` say about the same captures (one ladder per
//! client, every packet on an arrow, every finding present), a screenshot
//! is saved under target/, and chromedriver clicks and types its way
//! through the ladder (arrow → decoded packet with highlighted fields).
//!
//! Needs the Debian packages `chromium` and `chromium-driver`; without them
//! the tests print `SKIPPED …` and return, except under `CI=true`.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use lab::Scratch;
use serde_json::{json, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared corpus: `../shared/corpus` from the workspace root, looked for
/// in the ancestors (a worktree may sit deeper than the main checkout).
fn corpus() -> Option<PathBuf> {
    let start = root().canonicalize().ok()?;
    start
        .ancestors()
        .map(|a| a.join("shared/corpus"))
        .find(|p| p.is_dir())
}

/// Where the reports and screenshots go.
fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let d = target.join("html-report");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

/// Returns `None` after saying why the test cannot run (a failure in CI).
fn need(what: Option<PathBuf>, why: &str) -> Option<PathBuf> {
    if what.is_none() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{why}");
        }
        println!("SKIPPED {why}");
    }
    what
}

/// The inputs to render: corpus captures, the same capture given twice (so
/// every message is seen in two files), and each bundled example.
fn inputs() -> Vec<(String, Vec<String>)> {
    let mut v = Vec::new();
    if let Some(c) = corpus() {
        let p = |r: &str| c.join(r).to_string_lossy().into_owned();
        for (name, files) in [
            (
                "dora",
                vec![p("net-dhcp/DHCP-DISCOVER-OFFER-REQUEST-ACK.cap")],
            ),
            ("zeek-dhcp", vec![p("zeek/dhcp.pcap")]),
            ("dhcpfo", vec![p("net-dhcp/dhcpfo.pcapng")]),
            ("nak-small", vec![p("net-dhcp/DHCP-NAK-SMALL.cap")]),
            ("inter-vlan", vec![p("net-dhcp/DHCP_Inter_VLAN.cap")]),
            (
                "dora-twice",
                vec![
                    p("net-dhcp/DHCP-DISCOVER-OFFER-REQUEST-ACK.cap"),
                    p("net-dhcp/DHCP-DISCOVER-OFFER-REQUEST-ACK.cap"),
                ],
            ),
        ] {
            v.push((name.to_string(), files));
        }
    } else {
        println!("note: ../shared/corpus not found; only examples/ are rendered");
    }
    if let Ok(rd) = std::fs::read_dir(root().join("examples")) {
        let mut dirs: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for d in dirs {
            let name = format!("example-{}", d.file_name().unwrap().to_string_lossy());
            v.push((name, vec![d.to_string_lossy().into_owned()]));
        }
    }
    v
}

fn dhcplens(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dhcplens"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Writes the report and returns its path and the `diagnose --json` document.
fn report(name: &str, files: &[String]) -> (PathBuf, Value) {
    let html = out_dir().join(format!("{name}.html"));
    let mut args = vec!["diagnose", "--html", html.to_str().unwrap()];
    args.extend(files.iter().map(String::as_str));
    let o = dhcplens(&args);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut args = vec!["diagnose", "--json"];
    args.extend(files.iter().map(String::as_str));
    let o = dhcplens(&args);
    let doc: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{name}: diagnose --json: {e}"));
    (html, doc)
}

/// Every DHCP packet of the files, per chaddr, as `file-index:frame`.
fn packets_by_client(files: &[String], doc: &Value) -> HashMap<String, BTreeSet<String>> {
    let names: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    // Decode each file on its own: the same file given twice is two inputs.
    for (i, f) in files_of_case(files).iter().enumerate() {
        assert_eq!(names[i], f.as_str());
        let o = dhcplens(&["decode", "--json", f]);
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            let p: Value = serde_json::from_str(line).unwrap();
            let (Some(chaddr), Some(frame)) = (p["chaddr"].as_str(), p["frame"].as_u64()) else {
                continue;
            };
            let kind = p["message_type"].as_str().unwrap_or("");
            // Lease queries (RFC 4388, 6926) are no client's exchange. An
            // ICMP error quoting a client's message is an arrow of its own.
            if kind.starts_with("DHCPLEASE") || kind.contains("LEASEQUERY") || kind == "DHCPTLS" {
                continue;
            }
            out.entry(chaddr.to_string())
                .or_default()
                .insert(format!("{i}:{frame}"));
        }
    }
    out
}

/// The capture files of a case as `diagnose` lists them (a directory's
/// captures, sorted).
fn files_of_case(files: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for f in files {
        let p = Path::new(f);
        if p.is_dir() {
            let mut v: Vec<String> = std::fs::read_dir(p)
                .unwrap()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                            ["pcap", "pcapng", "cap", "dmp"]
                                .contains(&e.to_ascii_lowercase().as_str())
                        })
                })
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            v.sort();
            out.extend(v);
        } else {
            out.push(f.clone());
        }
    }
    out
}

fn chromium_args(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

fn chromium(browser: &Path, extra: &[String], url: &str) -> std::process::Output {
    let profile = Scratch::new("chromium-dump");
    Command::new(browser)
        .args(chromium_args(profile.path()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn url(p: &Path) -> String {
    format!("file://{}", p.canonicalize().unwrap().display())
}

/// The value of attribute `name` in the tag starting at `tag`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let end = tag.find('>')?;
    let tag = &tag[..end];
    let k = format!(" {name}=\"");
    let i = tag.find(&k)? + k.len();
    Some(&tag[i..i + tag[i..].find('"')?])
}

/// The client sections of a dumped DOM: (chaddr text, section markup).
fn sections(dom: &str) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(i) = rest.find("<article class=\"client") {
        let s = &rest[i..];
        let end = s.find("</article>").expect("closed article") + "</article>".len();
        let sec = &s[..end];
        let m = sec.find("<span class=\"mac\">").unwrap() + "<span class=\"mac\">".len();
        let mac = &sec[m..m + sec[m..].find('<').unwrap()];
        out.push((mac.to_string(), sec));
        rest = &s[end..];
    }
    out
}

fn arrow_tags(s: &str) -> Vec<&str> {
    s.match_indices("<g class=\"arrow ")
        .map(|(i, _)| &s[i..])
        .collect()
}

#[test]
fn chromium_renders_every_client_packet_and_finding() {
    let Some(browser) = need(
        which(&["chromium", "chromium-browser", "google-chrome"]),
        "chromium_renders_every_client_packet_and_finding: chromium is not installed (Debian package `chromium`)",
    ) else {
        return;
    };
    let inputs = inputs();
    assert!(!inputs.is_empty(), "no corpus and no examples/ to render");
    let mut example_clients = Vec::new();
    for (name, files) in &inputs {
        let (html, doc) = report(name, files);
        let size = std::fs::metadata(&html).unwrap().len();
        let o = chromium(&browser, &["--dump-dom".to_string()], &url(&html));
        let dom = String::from_utf8_lossy(&o.stdout);
        assert!(
            dom.contains("data-ready=\"1\""),
            "{name}: the page's script did not run: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            !dom.contains("data-error="),
            "{name}: the packet data did not parse"
        );
        assert!(
            dom.contains("data-missing=\"0\""),
            "{name}: arrows without data"
        );

        // One section and one ladder per client.
        let clients = doc["clients"].as_array().unwrap();
        let secs = sections(&dom);
        assert_eq!(secs.len(), clients.len(), "{name}: client sections");
        assert_eq!(
            dom.matches("<svg class=\"ladder\"").count(),
            clients.len(),
            "{name}: ladders"
        );
        let arrows_total = arrow_tags(&dom).len();
        let packets: usize = attr(&dom[dom.find("<html").unwrap()..], "data-packets")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(packets, arrows_total, "{name}: one packet entry per arrow");

        // Every DHCP packet of a client is on exactly one of its arrows.
        let expected = packets_by_client(files, &doc);
        for (mac, sec) in &secs {
            let mac = if mac == "(empty chaddr)" { "" } else { mac };
            let mut seen = BTreeSet::new();
            for a in arrow_tags(sec) {
                for f in attr(a, "data-frames").unwrap().split(' ') {
                    assert!(seen.insert(f.to_string()), "{name}: {mac} frame {f} twice");
                }
            }
            let want = expected.get(mac).cloned().unwrap_or_default();
            assert_eq!(seen, want, "{name}: packets of {mac}");
        }

        // One timeline mark per transaction.
        assert_eq!(
            dom.matches(" class=\"mark ").count(),
            doc["transactions"].as_array().unwrap().len(),
            "{name}: timeline marks"
        );

        // Every finding is shown, in its client's section or across clients.
        for f in doc["findings"].as_array().unwrap() {
            let code = f["code"].as_str().unwrap();
            let card = format!("<code class=\"code\">{code}</code>");
            let home = f["chaddr"].as_str().and_then(|c| {
                secs.iter()
                    .find(|(m, _)| m == c || (c.is_empty() && m == "(empty chaddr)"))
            });
            match home {
                Some((_, sec)) if code != "client-id-shared" => {
                    assert!(sec.contains(&card), "{name}: {code} missing for its client")
                }
                _ => assert!(dom.contains(&card), "{name}: {code} missing"),
            }
        }
        // Failures come first in the verdict table.
        let verdicts = &dom[dom.find("<table class=\"verdicts\"").unwrap()..];
        let verdicts = &verdicts[..verdicts.find("</table>").unwrap()];
        let rows: Vec<&str> = verdicts
            .match_indices("<tr class=\"st-")
            .map(|(i, _)| &verdicts[i + 14..i + 18])
            .collect();
        let first_ok = rows.iter().position(|r| *r != "fail").unwrap_or(rows.len());
        assert!(
            rows[first_ok..].iter().all(|r| *r != "fail"),
            "{name}: failures first: {rows:?}"
        );

        if name.starts_with("example-") {
            example_clients.push((files[0].clone(), clients.len()));
        }

        let shot = out_dir().join(format!("{name}.png"));
        let _ = std::fs::remove_file(&shot);
        chromium(
            &browser,
            &[
                format!("--screenshot={}", shot.display()),
                "--window-size=1280,1600".to_string(),
            ],
            &url(&html),
        );
        let png = std::fs::read(&shot).unwrap_or_default();
        assert!(png.starts_with(b"\x89PNG"), "{name}: no screenshot");
        println!(
            "{name}: {} clients, {arrows_total} arrows, page {size} bytes, screenshot {}",
            clients.len(),
            shot.display()
        );
    }

    // All examples at once: one section per case in one page.
    if example_clients.len() > 1 {
        let html = out_dir().join("examples.html");
        let mut args = vec!["diagnose", "--html", html.to_str().unwrap()];
        args.extend(example_clients.iter().map(|(d, _)| d.as_str()));
        let o = dhcplens(&args);
        assert!(matches!(o.status.code(), Some(0 | 1)));
        let dom = String::from_utf8_lossy(
            &chromium(&browser, &["--dump-dom".to_string()], &url(&html)).stdout,
        )
        .into_owned();
        assert!(dom.contains("data-ready=\"1\"") && dom.contains("data-missing=\"0\""));
        assert_eq!(
            dom.matches("<section class=\"case\"").count(),
            example_clients.len()
        );
        let nav = &dom[dom.find("<nav class=\"cases\"").expect("a list of cases")..];
        let nav = &nav[..nav.find("</nav>").unwrap()];
        assert_eq!(nav.matches("<li>").count(), example_clients.len());
        let total: usize = example_clients.iter().map(|(_, n)| n).sum();
        assert_eq!(dom.matches("<svg class=\"ladder\"").count(), total);
        println!(
            "all examples: {} cases, {total} clients, page {} bytes",
            example_clients.len(),
            std::fs::metadata(&html).unwrap().len()
        );
    }
}

// ---- A minimal WebDriver client (chromedriver on loopback) ----

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
    session: Option<String>,
    _profile: Scratch,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            let _ = http(self.port, "DELETE", &format!("/session/{s}"), None);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    // A hung browser fails the test instead of blocking it.
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    // Read the header, then exactly the body (the server may keep the
    // connection open).
    let mut r = BufReader::new(s);
    let mut length = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("connection closed in the header".into());
        }
        let l = line.trim_end().to_ascii_lowercase();
        if l.is_empty() {
            break;
        }
        if let Some(n) = l.strip_prefix("content-length:") {
            length = n.trim().parse::<usize>().ok();
        }
        chunked |= l.starts_with("transfer-encoding:") && l.contains("chunked");
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut line = String::new();
            r.read_line(&mut line).map_err(|e| e.to_string())?;
            let n = usize::from_str_radix(line.trim(), 16).map_err(|e| e.to_string())?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        r.read_exact(&mut body).map_err(|e| e.to_string())?;
    } else {
        r.read_to_end(&mut body).map_err(|e| e.to_string())?;
    }
    let payload = String::from_utf8_lossy(&body);
    let payload: &str = &payload;
    let v: Value = serde_json::from_str(payload).map_err(|e| format!("{e}: {payload}"))?;
    if v["value"]["error"].is_string() {
        return Err(format!("{method} {path}: {}", v["value"]));
    }
    Ok(v["value"].clone())
}

impl Driver {
    fn start(driver: &Path, browser: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // chromedriver says when it listens.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        loop {
            match lines.next() {
                Some(Ok(l)) if l.contains("started successfully") => break,
                Some(Ok(_)) => continue,
                _ => panic!("chromedriver did not start"),
            }
        }
        std::thread::spawn(move || for _ in lines {});
        let profile = Scratch::new("chromium-driver");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": browser.to_string_lossy(),
                "args": chromium_args(profile.path()).into_iter()
                    .chain(["--window-size=1280,1000".to_string()]).collect::<Vec<_>>(),
            }
        }}});
        let mut d = Driver {
            child,
            port,
            session: None,
            _profile: profile,
        };
        let v = http(port, "POST", "/session", Some(&caps)).unwrap();
        d.session = Some(v["sessionId"].as_str().unwrap().to_string());
        d
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let s = self.session.as_deref().unwrap();
        http(
            self.port,
            method,
            &format!("/session/{s}{path}"),
            body.as_ref(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn js(&self, script: &str) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }

    fn click(&self, el: &str) {
        self.cmd("POST", &format!("/element/{el}/click"), Some(json!({})));
    }

    fn keys(&self, el: &str, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn panel_title(&self) -> String {
        self.js("var p = document.getElementById('panel'); \
             return p.hidden ? '' : document.getElementById('panel-title').textContent;")
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[test]
fn arrows_open_their_packet_by_click_and_keyboard() {
    let Some(browser) = need(
        which(&["chromium", "chromium-browser", "google-chrome"]),
        "arrows_open_their_packet_by_click_and_keyboard: chromium is not installed (Debian package `chromium`)",
    ) else {
        return;
    };
    let Some(driver) = need(
        which(&["chromedriver"]),
        "arrows_open_their_packet_by_click_and_keyboard: chromedriver is not installed (Debian package `chromium-driver`)",
    ) else {
        return;
    };
    let Some(c) = need(
        corpus(),
        "arrows_open_their_packet_by_click_and_keyboard: ../shared/corpus not found",
    ) else {
        return;
    };
    // DISCOVER, OFFER (xid 0x3d1d), REQUEST, ACK (xid 0x3d1e): xid-changed
    // quotes frames 2 and 3.
    let dora = c
        .join("net-dhcp/DHCP-DISCOVER-OFFER-REQUEST-ACK.cap")
        .to_string_lossy()
        .into_owned();
    let (html, _) = report("interactive", &[dora]);
    let d = Driver::start(&driver, &browser);
    d.cmd("POST", "/url", Some(json!({ "url": url(&html) })));
    assert_eq!(d.js("return document.documentElement.dataset.ready"), "1");
    assert_eq!(d.panel_title(), "", "the panel starts closed");

    // A click on the first arrow opens the DISCOVER.
    let first = d.find(".arrow");
    d.click(&first);
    let t = d.panel_title();
    assert!(t.starts_with("DHCPDISCOVER · xid 0x00003d1d"), "{t}");
    // All fields and options are listed.
    let rows = d.js("return document.querySelectorAll('#panel-body tr').length");
    assert!(rows.as_u64().unwrap() > 20, "{rows}");
    let opt53 = d.js(
        "var r = document.querySelector('#panel-body tr[data-k=\"opt:53\"] td'); return r && r.textContent;",
    );
    assert_eq!(opt53, "DHCPDISCOVER");

    // Keyboard: ArrowDown moves to the OFFER, Enter opens it.
    d.keys(&first, "\u{E015}");
    assert_eq!(
        d.js("return document.activeElement.getAttribute('data-frames')"),
        "0:2"
    );
    let offer = d.find(".arrow[data-frames='0:2']");
    d.keys(&offer, "\u{E007}");
    let t = d.panel_title();
    assert!(t.starts_with("DHCPOFFER · xid 0x00003d1d"), "{t}");
    // The OFFER is evidence of xid-changed and required-option-missing: its
    // xid is highlighted, and the router it lacks is shown as absent.
    let hl = d.js(
        "return Array.from(document.querySelectorAll('#panel-body tr.hl')).map(function (r) { return r.getAttribute('data-k'); }).join(' ');",
    );
    let hl = hl.as_str().unwrap();
    assert!(hl.contains("xid") && hl.contains("opt:3"), "{hl}");
    let router = d.js(
        "var r = document.querySelector('#panel-body tr.absent[data-k=\"opt:3\"] td'); return r && r.textContent;",
    );
    assert_eq!(router, "not present");
    let secs_hl = d.js("return !!document.querySelector('#panel-body tr.hl[data-k=\"secs\"]')");
    assert_eq!(secs_hl, false, "only the fields the findings quote");

    // Escape closes the panel and gives the focus back to the arrow.
    let title = d.find("#panel-title");
    d.keys(&title, "\u{E00C}");
    assert_eq!(d.panel_title(), "");
    assert_eq!(
        d.js("return document.activeElement.getAttribute('data-frames')"),
        "0:2"
    );

    // A link from the verdicts unfolds a folded (healthy) client.
    d.js("document.querySelector('article.client details.fold').open = false; return 0;");
    let link = d.find(".verdicts a.mac");
    d.click(&link);
    assert_eq!(
        d.js("return document.querySelector('article.client details.fold').open"),
        true
    );

    // An evidence link opens the frame it names.
    let ev = d.find(".finding .ev");
    let want = d.js("return document.querySelector('.finding .ev').getAttribute('data-p')");
    d.click(&ev);
    assert_eq!(
        d.js("return document.getElementById('panel').getAttribute('data-open')"),
        want
    );
    assert_eq!(
        d.js("return document.querySelector('.arrow.selected').id"),
        want
    );
}

/// A capture whose packets carry markup: a DISCOVER with a host name and a
/// vendor class that try to run script, and a NAK whose message does too.
fn hostile_capture() -> PathBuf {
    use std::net::Ipv4Addr;
    use wire::dhcp::{code, Message, MessageType, Op};
    use wire::frame::UdpFrame;

    let mac = [0x02, 0, 0, 0, 0x66, 0x01];
    let server = Ipv4Addr::new(192, 168, 1, 1);
    let mut w =
        capture::write::PcapWriter::new(Vec::new(), wire::LinkType::Ethernet, 65535).unwrap();
    let mut frame = |t: i64, m: &Message<'_>, from_server: bool| {
        let payload = m.encode(300);
        let mut f = if from_server {
            UdpFrame::new((server, 67), (Ipv4Addr::BROADCAST, 68), &payload)
        } else {
            UdpFrame::new(
                (Ipv4Addr::UNSPECIFIED, 68),
                (Ipv4Addr::BROADCAST, 67),
                &payload,
            )
        };
        f.src_mac = if from_server {
            [2, 0, 0, 0, 0, 0xfe]
        } else {
            mac
        };
        let b = f.ethernet_frame();
        w.write(1_700_000_000_000_000_000 + t, &b, b.len()).unwrap();
    };
    let mut d = Message::new(Op::BootRequest, 0x6666, &mac);
    d.set_option(
        code::DHCP_MESSAGE_TYPE,
        vec![u8::from(MessageType::Request)],
    );
    d.set_option(code::REQUESTED_IP_ADDRESS, vec![192, 168, 1, 10]);
    d.set_option(
        code::HOST_NAME,
        b"<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">".to_vec(),
    );
    d.set_option(
        code::VENDOR_CLASS_IDENTIFIER,
        b"</script><script>window.__pwned=3</script>".to_vec(),
    );
    frame(0, &d, false);
    let mut nak = Message::new(Op::BootReply, 0x6666, &mac);
    nak.set_option(code::DHCP_MESSAGE_TYPE, vec![u8::from(MessageType::Nak)]);
    nak.set_option(code::SERVER_IDENTIFIER, server.octets().to_vec());
    nak.set_option(code::MESSAGE, b"<svg onload=window.__pwned=4>".to_vec());
    frame(1_000_000, &nak, true);
    let p = out_dir().join("hostile.pcap");
    std::fs::write(&p, w.into_inner()).unwrap();
    p
}

#[test]
fn packet_text_cannot_run_script_in_the_browser() {
    let Some(browser) = need(
        which(&["chromium", "chromium-browser", "google-chrome"]),
        "packet_text_cannot_run_script_in_the_browser: chromium is not installed (Debian package `chromium`)",
    ) else {
        return;
    };
    let Some(driver) = need(
        which(&["chromedriver"]),
        "packet_text_cannot_run_script_in_the_browser: chromedriver is not installed (Debian package `chromium-driver`)",
    ) else {
        return;
    };
    let cap = hostile_capture();
    let (html, _) = report("hostile", &[cap.to_string_lossy().into_owned()]);
    let d = Driver::start(&driver, &browser);
    d.cmd("POST", "/url", Some(json!({ "url": url(&html) })));
    assert_eq!(d.js("return document.documentElement.dataset.ready"), "1");
    // Open both packets: the panel shows their text as text.
    for css in [".arrow.req", ".arrow.nak"] {
        let a = d.find(css);
        d.click(&a);
    }
    let a = d.find(".arrow.req");
    d.keys(&a, "\u{E007}");
    let host = d.js(
        "var r = document.querySelector('#panel-body tr[data-k=\"opt:12\"] td'); return r && r.textContent;",
    );
    assert_eq!(
        host,
        "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">"
    );
    assert_eq!(d.js("return window.__pwned === undefined"), true);
    assert_eq!(d.js("return document.querySelectorAll('img').length"), 0);
    assert_eq!(d.js("return document.scripts.length"), 2);
    assert_eq!(
        d.js("return document.querySelectorAll('svg [onload], [onerror]').length"),
        0
    );
    // The NAK's message is in the ladder, as text.
    let note = d.js("return document.querySelector('.arrow.nak .notes').textContent");
    assert!(
        note.as_str()
            .unwrap()
            .contains("<svg onload=window.__pwned=4>"),
        "{note}"
    );
}
