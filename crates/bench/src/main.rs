//! `dhcplens-bench`: generate large realistic captures, and time dhcplens
//! against tshark and tcpdump on them.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};

use bench::gen::{self, Config, Format, Scenario};
use bench::run;

#[derive(Debug, Parser)]
#[command(
    name = "dhcplens-bench",
    version,
    about = "Generate large, realistic DHCP captures and time dhcplens against tshark and tcpdump on them."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a capture of many overlapping DHCP clients (healthy, plus a mix of failures).
    Gen(GenArgs),
    /// Write a large ISC dhcpd log (for `explain` and `diagnose --log`).
    GenLog(GenLogArgs),
    /// Time dhcplens diagnose/decode, tshark and tcpdump on one capture.
    Run(RunArgs),
    /// Time the stages of `diagnose` in process (read, decode, observe, analyse, report):
    /// where the time goes.
    Stages(StagesArgs),
}

#[derive(Debug, Args)]
struct StagesArgs {
    /// The capture to analyse.
    file: PathBuf,
    /// Runs of each stage (alternating); medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Time only this stage (e.g. under `perf stat`).
    #[arg(long, value_parser = ["read", "decode", "observe", "analyse", "report"])]
    only: Option<String>,
    /// Leave the file in the page cache as it is (by default it is dropped
    /// and read back, so that every measurement starts from the same cache).
    #[arg(long)]
    keep_cache: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Pcap,
    Pcapng,
}

#[derive(Debug, Args)]
struct GenArgs {
    /// Number of clients (about 3.9 packets each with the default mix).
    #[arg(long)]
    clients: Option<u64>,
    /// Stop after exactly this many packets; alone, picks enough clients for it.
    #[arg(long)]
    packets: Option<u64>,
    #[arg(long, value_enum, default_value = "pcap")]
    format: FormatArg,
    /// Seed: the same seed and options give the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// New clients per second (Poisson arrivals); sets how many overlap.
    #[arg(long, default_value_t = 2500.0)]
    rate: f64,
    /// Share of clients in a failure scenario (no-offer with frozen secs, NAK,
    /// offer-ignored with partial checksums, multiple servers; a quarter each).
    #[arg(long, default_value_t = 0.05)]
    failure_rate: f64,
    /// Campus VLANs (a /14 each); 0 for a single untagged subnet.
    #[arg(long, default_value_t = 16)]
    vlans: u16,
    /// Distinct machines: clients beyond this many are the same machines
    /// coming back (same MAC and behaviour, new xids), as in hours of one
    /// network's traffic. Default: every client is a new machine.
    #[arg(long, value_name = "N")]
    population: Option<u64>,
    /// Also write one CSV line per client: mac,scenario,kind,vlan.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// Output capture file.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

#[derive(Debug, Args)]
struct GenLogArgs {
    /// Distinct clients: each gets a lease, then they renew in turn.
    #[arg(long)]
    clients: u64,
    /// Lines to write.
    #[arg(long)]
    lines: u64,
    /// Output log file.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The capture to analyse (read into the page cache first).
    file: PathBuf,
    /// Timed runs of each command (alternating; diagnose and stdin swap
    /// places every round); medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The dhcplens binary to time (default: the workspace's target/release/dhcplens,
    /// built with `cargo build --release -p dhcplens` first).
    #[arg(long, value_name = "PATH")]
    dhcplens: Option<PathBuf>,
    /// Do not run `cargo build --release -p dhcplens` before timing.
    #[arg(long)]
    no_build: bool,
    /// Which commands to time (comma-separated): diagnose, decode, tshark, tcpdump,
    /// stdin (`cat FILE | dhcplens diagnose --json -`), pipe (`dhcplens diagnose
    /// --json FILE | cat`).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "diagnose,decode,tshark,tcpdump,stdin,pipe"
    )]
    only: Vec<String>,
    /// Leave the file in the page cache as it is (by default it is dropped
    /// and read back, so that every measurement starts from the same cache).
    #[arg(long)]
    keep_cache: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Gen(a) => gen_cmd(a),
        Command::GenLog(a) => gen_log_cmd(a),
        Command::Run(a) => run_cmd(a),
        Command::Stages(a) => {
            let mut log = std::io::stderr().lock();
            let cache = if a.keep_cache {
                Ok(())
            } else {
                bench::run::recache(&a.file)
                    .map(|t| {
                        let _ = writeln!(
                            log,
                            "cache: dropped and read back in {:.2} s",
                            t.as_secs_f64()
                        );
                    })
                    .with_context(|| {
                        format!(
                            "{}: cannot read it back into the page cache",
                            a.file.display()
                        )
                    })
            };
            cache
                .and_then(|()| bench::stages::stages(&a.file, a.runs, a.only.as_deref(), &mut log))
                .and_then(|s| Ok(bench::stages::print(&s, &mut std::io::stdout().lock())?))
        }
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        // Output closed early (e.g. `| head`): not an error.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dhcplens-bench: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn gen_log_cmd(a: GenLogArgs) -> anyhow::Result<()> {
    let file =
        File::create(&a.output).with_context(|| format!("cannot create {}", a.output.display()))?;
    let mut out = BufWriter::new(file);
    let s = bench::log::write_dhcpd_log(&mut out, a.clients, a.lines)?;
    out.flush()?;
    eprintln!(
        "{}: {} lines, {} bytes, {} clients",
        a.output.display(),
        s.lines,
        s.bytes,
        a.clients
    );
    Ok(())
}

fn gen_cmd(a: GenArgs) -> anyhow::Result<()> {
    let clients = match (a.clients, a.packets) {
        (Some(c), _) => c,
        (None, Some(p)) => Config::clients_for_packets(p, a.failure_rate),
        (None, None) => bail!("give --clients N or --packets P (or both)"),
    };
    let mut cfg = Config::new(clients);
    cfg.max_packets = a.packets;
    cfg.format = match a.format {
        FormatArg::Pcap => Format::Pcap,
        FormatArg::Pcapng => Format::Pcapng,
    };
    cfg.seed = a.seed;
    cfg.rate = a.rate;
    cfg.failure_rate = a.failure_rate;
    cfg.vlans = a.vlans;
    cfg.population = a.population;
    let file =
        File::create(&a.output).with_context(|| format!("cannot create {}", a.output.display()))?;
    let mut manifest = match &a.manifest {
        Some(p) => Some(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };
    let t = Instant::now();
    let stats = gen::generate(&cfg, file, manifest.as_mut().map(|m| m as &mut dyn Write))
        .with_context(|| format!("writing {}", a.output.display()))?;
    let secs = t.elapsed().as_secs_f64();
    let span = (stats.last_ns - stats.first_ns) as f64 / 1e9;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: {} packets, {} clients, {:.1} MB, {:.0} s of traffic; at most {} clients mid-exchange at once",
        a.output.display(),
        stats.packets,
        stats.clients,
        stats.bytes as f64 / 1e6,
        span,
        stats.max_active
    )?;
    writeln!(
        out,
        "written in {secs:.1} s ({:.0} packets/s)",
        stats.packets as f64 / secs
    )?;
    writeln!(out, "clients by scenario:")?;
    for s in Scenario::ALL {
        let n = stats.scenario(s);
        writeln!(
            out,
            "  {:<17} {:>9}  {:5.2} %",
            s.name(),
            n,
            100.0 * n as f64 / stats.clients.max(1) as f64
        )?;
    }
    Ok(())
}

fn run_cmd(a: RunArgs) -> anyhow::Result<()> {
    let opts = run::Options {
        file: a.file,
        runs: a.runs.max(1),
        dhcplens: a.dhcplens,
        build: !a.no_build,
        only: a.only,
        keep_cache: a.keep_cache,
    };
    run::run(&opts, &mut std::io::stdout().lock())
}
