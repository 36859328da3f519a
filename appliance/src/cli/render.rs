//! `icsfwd render --sample`: the built-in example alert and notification, rendered the way
//! each destination format receives them.

use std::io::{self, Write as _};

use clap::ValueEnum;
use icsfwd_core::alert::{Alert, Event, Notification, NotificationKind};
use icsfwd_core::format::{self, Kind, syslog};

use super::Error;
use crate::exit::Exit;

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

/// `icsfwd render --sample`: the example alert and the sensor-offline notification at
/// `time_ms`, in `which` format (every one, each under a heading, for `all`).
///
/// # Errors
///
/// The output cannot be written.
pub fn sample(which: FormatArg, time_ms: u64) -> Result<Exit, Error> {
    let alert = Event::from(Alert::example(time_ms));
    let mut offline = Notification::new(1, time_ms + 60_000, NotificationKind::SensorOffline);
    offline.sensor = Alert::example(time_ms).sensor;
    offline.set_text("No heartbeat from sensor-plant-a for 300 s.");
    let offline = Event::from(offline);

    let formats: &[FormatArg] = if which == FormatArg::All {
        &EVERY_FORMAT
    } else {
        std::slice::from_ref(&which)
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut buf = vec![0u8; syslog::MAX_LEN.max(format::MAX_LEN)];
    for (i, &f) in formats.iter().enumerate() {
        if formats.len() > 1 {
            if i > 0 {
                writeln!(out)?;
            }
            let name = f
                .to_possible_value()
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default();
            writeln!(out, "==> {name}")?;
        }
        for event in [&alert, &offline] {
            let n = render(f, event, &mut buf)?;
            let bytes = buf.get(..n).unwrap_or_default();
            out.write_all(bytes)?;
            if !bytes.ends_with(b"\n") {
                writeln!(out)?;
            }
        }
    }
    out.flush()?;
    Ok(Exit::Success)
}

/// Renders `event` in `which` (not `all`) into `buf`; returns the length.
fn render(which: FormatArg, event: &Event, buf: &mut [u8]) -> Result<usize, Error> {
    let options = format::Options::default();
    let mut sink = format::SliceWriter::new(buf);
    let payload = match which {
        FormatArg::All => return Err(Error::Internal("`all` is expanded before rendering")),
        FormatArg::Text => return Ok(format::write(Kind::Text, event, &options, &mut sink)?),
        FormatArg::Hec => return Ok(format::write(Kind::Hec, event, &options, &mut sink)?),
        FormatArg::Cef => return Ok(format::write(Kind::Cef, event, &options, &mut sink)?),
        FormatArg::Leef => return Ok(format::write(Kind::Leef, event, &options, &mut sink)?),
        FormatArg::SyslogText => syslog::Payload::Text(options.text.clone()),
        FormatArg::SyslogCef => syslog::Payload::Cef(options.cef.clone()),
        FormatArg::SyslogLeef => syslog::Payload::Leef(options.leef.clone()),
    };
    let syslog_options = syslog::Options {
        payload,
        ..syslog::Options::default()
    };
    Ok(syslog::write(event, &syslog_options, &mut sink)?)
}
