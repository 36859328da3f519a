//! `icsfwd render`: events rendered the way a destination receives them — the built-in sample
//! (`--sample`), or the operator's own ingest lines (`--input FILE|-`), in every wire format or
//! those chosen, or with `-c` exactly as each configured destination would send them.
//!
//! Input lines are read one at a time, each bounded by `[ingest] max_line_bytes` (of `-c`, else
//! its default), and decoded as the ingest socket decodes them (`docs/ingest.md`). A line that
//! would be refused is reported on standard error with its line number and the refusal, and the
//! other lines are still rendered; a heartbeat is noted (it is never forwarded). With `-c`, an
//! event the rules do not send to a destination is shown as not sent there, not rendered.
//!
//! Output: when one rendering per event is asked for (one format, or one destination), the
//! renderings alone, one after the other (pipeable: `--format hec` gives one JSON envelope per
//! line); otherwise each under a heading `==> line N: <format or destination>`. `--sample`
//! without `-c` keeps its layout: a heading per format, the two sample events under each.

use std::io::{self, BufRead, Write as _};

use clap::ValueEnum;
use icsfwd_core::alert::{Alert, Event, Notification, NotificationKind};
use icsfwd_core::format::{self, Kind, syslog};

use super::Error;
use crate::clock::now_ms;
use crate::config::Config;
use crate::destination::{Destination, DestinationKind};
use crate::exit::Exit;
use crate::ingest::schema::{self, DEFAULT_MAX_LINE_BYTES, Message};
use crate::ingest::server::{LineRead, read_line_bounded};

/// `--format`: which format to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Every format below.
    All,
    /// The classic Splunk event (splunkd receivers/simple).
    Text,
    /// The HTTP Event Collector JSON envelope.
    Hec,
    /// ArcSight Common Event Format.
    Cef,
    /// IBM QRadar LEEF 1.0.
    Leef,
    /// RFC 5424 syslog carrying the text payload.
    SyslogText,
    /// RFC 5424 syslog carrying a CEF payload.
    SyslogCef,
    /// RFC 5424 syslog carrying a LEEF payload.
    SyslogLeef,
}

impl FormatArg {
    /// The name on the command line (`syslog-cef`).
    fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// What `all` stands for, in the order rendered.
const EVERY_FORMAT: [FormatArg; 7] = [
    FormatArg::Text,
    FormatArg::Hec,
    FormatArg::Cef,
    FormatArg::Leef,
    FormatArg::SyslogText,
    FormatArg::SyslogCef,
    FormatArg::SyslogLeef,
];

/// The formats `formats` names: every one for none or `all`, else each once, in the order
/// given.
pub(crate) fn expand_formats(formats: &[FormatArg]) -> Vec<FormatArg> {
    if formats.is_empty() || formats.contains(&FormatArg::All) {
        return EVERY_FORMAT.to_vec();
    }
    let mut chosen: Vec<FormatArg> = Vec::new();
    for &f in formats {
        if !chosen.contains(&f) {
            chosen.push(f);
        }
    }
    chosen
}

/// Where the events come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The example alert and the sensor-offline notification.
    Sample,
    /// Ingest JSON lines from a file, or standard input for `-`.
    Input(String),
}

/// The arguments of `icsfwd render` on the command line (its help text is theirs).
#[derive(Debug, Clone, clap::Args)]
pub struct RenderCommand {
    /// Render the built-in example alert and notification.
    #[arg(long, conflicts_with = "input", required_unless_present = "input")]
    pub sample: bool,
    /// Render the ingest JSON lines of FILE; `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    pub input: Option<String>,
    /// Which format to render (repeatable); `all` (the default) renders every one.
    #[arg(long, value_enum, conflicts_with = "config")]
    pub format: Vec<FormatArg>,
    /// Render as the destinations of this configuration send it; its
    /// `[ingest] max_line_bytes` bounds the input lines.
    #[arg(long, short, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// With -c, only this destination (repeatable; its `name`).
    #[arg(long, value_name = "NAME", requires = "config")]
    pub destination: Vec<String>,
    /// Event time in milliseconds since the Unix epoch, for the sample and for input
    /// lines without `time` or `time_ms` (default: a fixed, documented time so the output
    /// is reproducible).
    #[arg(long, default_value_t = 1_700_000_000_000)]
    pub time_ms: u64,
}

impl From<RenderCommand> for RenderArgs {
    fn from(command: RenderCommand) -> Self {
        RenderArgs {
            source: command.input.map_or(Source::Sample, Source::Input),
            formats: command.format,
            config: command.config,
            destinations: command.destination,
            time_ms: command.time_ms,
        }
    }
}

/// What `icsfwd render` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderArgs {
    /// Where the events come from.
    pub source: Source,
    /// The formats (`--format`, repeatable; empty: all). Not used with a configuration.
    pub formats: Vec<FormatArg>,
    /// The configuration whose destinations render the events (`-c`).
    pub config: Option<std::path::PathBuf>,
    /// With a configuration, only these destinations (`--destination`, repeatable; empty:
    /// all).
    pub destinations: Vec<String>,
    /// The time of the sample events, and of input lines that give no time.
    pub time_ms: u64,
}

/// One rendering asked of each event: a format, or a configured destination.
#[derive(Debug, Clone, Copy)]
enum Target<'c> {
    Format(FormatArg),
    Destination(&'c Destination, &'c Config),
}

impl Target<'_> {
    fn heading(&self) -> String {
        match self {
            Target::Format(f) => f.name(),
            Target::Destination(d, _) => match &d.kind {
                DestinationKind::Syslog(_) => {
                    format!(
                        "destination {:?} (syslog, {} payload)",
                        d.name,
                        d.format().as_str()
                    )
                }
                kind => format!("destination {:?} ({})", d.name, kind.as_str()),
            },
        }
    }
}

/// `icsfwd render`: see the [module docs](self). Exit 0 every event rendered, 3 some input
/// lines could not be (each named on standard error).
///
/// # Errors
///
/// The configuration cannot be loaded, a destination named is not in it, or the input cannot
/// be opened or read, or the output written.
pub fn render(args: &RenderArgs) -> Result<Exit, Error> {
    let config = args.config.as_deref().map(super::load_config).transpose()?;
    let targets = targets(args, config.as_ref())?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let exit = match (&args.source, &config) {
        (Source::Sample, None) => {
            sample(&targets, args.time_ms, &mut out)?;
            Exit::Success
        }
        (Source::Sample, Some(_)) => {
            let mut renderer = Renderer::new(&targets, &mut out);
            for (label, event) in sample_events(args.time_ms).iter().enumerate() {
                renderer.event(&format!("sample {}", label + 1), event)?;
            }
            Exit::Success
        }
        (Source::Input(path), _) => {
            let max_line = config
                .as_ref()
                .map_or(DEFAULT_MAX_LINE_BYTES, |c| c.ingest.max_line_bytes);
            let input = crate::send::open_input(Some(path))?;
            let mut renderer = Renderer::new(&targets, &mut out);
            let bad = input_lines(input, max_line, args.time_ms, &mut renderer)?;
            if bad > 0 {
                Exit::Refused
            } else {
                Exit::Success
            }
        }
    };
    out.flush()?;
    Ok(exit)
}

/// The renderings asked for: the chosen formats, or the configured destinations (those named,
/// in the order named, else every one).
fn targets<'c>(args: &RenderArgs, config: Option<&'c Config>) -> Result<Vec<Target<'c>>, Error> {
    let Some(config) = config else {
        return Ok(expand_formats(&args.formats)
            .into_iter()
            .map(Target::Format)
            .collect());
    };
    if args.destinations.is_empty() {
        return Ok(config
            .destinations
            .iter()
            .map(|d| Target::Destination(d, config))
            .collect());
    }
    args.destinations
        .iter()
        .map(|name| {
            config
                .destination(name)
                .map(|d| Target::Destination(d, config))
                .ok_or_else(|| Error::NotConfigured(unknown_destination(name, config)))
        })
        .collect()
}

fn unknown_destination(name: &str, config: &Config) -> String {
    let names: Vec<&str> = config
        .destinations
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    format!(
        "no destination is named {name:?} in the configuration; its destinations are: {}",
        names.join(", ")
    )
}

/// The example alert and the sensor-offline notification a minute later.
fn sample_events(time_ms: u64) -> [Event; 2] {
    let alert = Event::from(Alert::example(time_ms));
    let mut offline = Notification::new(
        1,
        time_ms.saturating_add(60_000),
        NotificationKind::SensorOffline,
    );
    offline.sensor = Alert::example(time_ms).sensor;
    offline.set_text("No heartbeat from sensor-plant-a for 300 s.");
    [alert, Event::from(offline)]
}

/// `--sample` without a configuration: per format a heading (when there are several), then
/// both sample events.
fn sample(targets: &[Target<'_>], time_ms: u64, out: &mut dyn io::Write) -> Result<(), Error> {
    let events = sample_events(time_ms);
    let mut buf = render_buffer();
    for (i, target) in targets.iter().enumerate() {
        if targets.len() > 1 {
            if i > 0 {
                writeln!(out)?;
            }
            writeln!(out, "==> {}", target.heading())?;
        }
        for event in &events {
            let n = render_one(*target, event, &mut buf)?;
            write_rendering(out, buf.get(..n).unwrap_or_default())?;
        }
    }
    Ok(())
}

/// Reads, decodes and renders every line of `input`; returns how many could not be rendered.
fn input_lines(
    mut input: Box<dyn BufRead>,
    max_line: usize,
    time_ms: u64,
    renderer: &mut Renderer<'_, '_>,
) -> Result<u64, Error> {
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut bad = 0u64;
    loop {
        let read =
            read_line_bounded(&mut input, &mut line, max_line).map_err(|source| Error::Read {
                what: "reading the input lines".to_owned(),
                source,
            })?;
        number += 1;
        let decoded = match read {
            LineRead::End => return Ok(bad),
            LineRead::Line if line.iter().all(u8::is_ascii_whitespace) => continue,
            LineRead::Line => schema::decode_line_within(&line, time_ms, max_line),
            LineRead::TooLong(len) => Err(schema::too_long(len, max_line)),
        };
        match decoded.map(|d| d.message) {
            Ok(Message::Event(event)) => renderer.event(&format!("line {number}"), &event)?,
            Ok(Message::Heartbeat(_)) => {
                eprintln!("icsfwd: line {number}: a heartbeat: never forwarded, nothing to render");
            }
            Err(refusal) => {
                bad += 1;
                eprintln!("icsfwd: line {number}: not rendered, ingest would refuse it: {refusal}");
            }
        }
    }
}

/// Renders events one by one to every target, with headings when there are several.
struct Renderer<'t, 'o> {
    targets: &'t [Target<'t>],
    out: &'o mut dyn io::Write,
    buf: Vec<u8>,
    /// Whether something was written (a blank line separates the next heading).
    written: bool,
}

impl<'t, 'o> Renderer<'t, 'o> {
    fn new(targets: &'t [Target<'t>], out: &'o mut dyn io::Write) -> Self {
        Renderer {
            targets,
            out,
            buf: render_buffer(),
            written: false,
        }
    }

    /// Renders `event` (`label`: `line 3`, `sample 1`) to each target.
    fn event(&mut self, label: &str, event: &Event) -> Result<(), Error> {
        let headings = self.targets.len() > 1;
        for &target in self.targets {
            if let Target::Destination(d, config) = target
                && !config.rules.route(event, now_ms()).contains(d.id)
            {
                let why = format!(
                    "{label}: not sent to {:?}: no rule sends this event there",
                    d.name
                );
                if headings {
                    self.heading(&format!("{label}: {} (not sent here)", target.heading()))?;
                } else {
                    eprintln!("icsfwd: {why}");
                }
                continue;
            }
            if headings {
                self.heading(&format!("{label}: {}", target.heading()))?;
            }
            let n = render_one(target, event, &mut self.buf)?;
            write_rendering(self.out, self.buf.get(..n).unwrap_or_default())?;
            self.written = true;
        }
        Ok(())
    }

    fn heading(&mut self, text: &str) -> Result<(), Error> {
        if self.written {
            writeln!(self.out)?;
        }
        writeln!(self.out, "==> {text}")?;
        self.written = true;
        Ok(())
    }
}

/// A buffer every rendering fits in.
fn render_buffer() -> Vec<u8> {
    vec![0u8; syslog::MAX_LEN.max(format::MAX_LEN)]
}

/// Writes one rendering and, unless it ends in one, a line feed.
fn write_rendering(out: &mut dyn io::Write, bytes: &[u8]) -> Result<(), Error> {
    out.write_all(bytes)?;
    if !bytes.ends_with(b"\n") {
        writeln!(out)?;
    }
    Ok(())
}

/// Renders `event` for `target` into `buf`; returns the length.
fn render_one(target: Target<'_>, event: &Event, buf: &mut [u8]) -> Result<usize, Error> {
    let mut sink = format::SliceWriter::new(buf);
    match target {
        Target::Format(which) => render_format(which, event, &mut sink),
        Target::Destination(d, _) => match d.syslog_options() {
            Some(options) => Ok(syslog::write(event, options, &mut sink)?),
            None => Ok(format::write(
                d.format(),
                event,
                &d.format_options(),
                &mut sink,
            )?),
        },
    }
}

/// Renders `event` in `which` (not `all`) with the default options.
fn render_format(
    which: FormatArg,
    event: &Event,
    sink: &mut format::SliceWriter<'_>,
) -> Result<usize, Error> {
    let options = format::Options::default();
    let payload = match which {
        FormatArg::All => return Err(Error::Internal("`all` is expanded before rendering")),
        FormatArg::Text => return Ok(format::write(Kind::Text, event, &options, sink)?),
        FormatArg::Hec => return Ok(format::write(Kind::Hec, event, &options, sink)?),
        FormatArg::Cef => return Ok(format::write(Kind::Cef, event, &options, sink)?),
        FormatArg::Leef => return Ok(format::write(Kind::Leef, event, &options, sink)?),
        FormatArg::SyslogText => syslog::Payload::Text(options.text.clone()),
        FormatArg::SyslogCef => syslog::Payload::Cef(options.cef.clone()),
        FormatArg::SyslogLeef => syslog::Payload::Leef(options.leef.clone()),
    };
    let syslog_options = syslog::Options {
        payload,
        ..syslog::Options::default()
    };
    Ok(syslog::write(event, &syslog_options, sink)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_expand_to_every_one_for_none_or_all_and_keep_the_order_given() {
        assert_eq!(expand_formats(&[]), EVERY_FORMAT.to_vec());
        assert_eq!(
            expand_formats(&[FormatArg::Cef, FormatArg::All]),
            EVERY_FORMAT.to_vec()
        );
        assert_eq!(
            expand_formats(&[FormatArg::Leef, FormatArg::Hec, FormatArg::Leef]),
            vec![FormatArg::Leef, FormatArg::Hec]
        );
    }
}
