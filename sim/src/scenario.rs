//! Seeded scenarios: attack and failure stories told over a steady background of alerts, as a
//! stream of timed events `(offset_ms, Event)`.
//!
//! A scenario is an endless, deterministic sequence cut at [`Params::count`] events. Every
//! scenario but `steady` interleaves *episodes* (one telling of its story) with the background:
//! the first episode starts after 3 to 10 background intervals, and each next one after 1 to 3
//! times [`Params::burst`] background intervals of quiet, so roughly a quarter to a half of the
//! events belong to stories.
//!
//! The stories (the attack sequences are our choice, written after the catalogue's rows; a row
//! missing from the catalogue skips its step):
//!
//! - **steady** (`steady`): background only, at [`Params::rate`] events per second, 0.5 to 1.5
//!   mean intervals apart. The background draws from the catalogue *without* the story alerts
//!   (engine Malware, groups Scan, Programming, Firmware change, Restart/stop commands, and the
//!   rows the stories tell), so a story stands out in Splunk the way it would on a real site.
//! - **scan** (`scan`): one scanner (a device whose role may scan: the contractor laptop, an
//!   engineering workstation, an HMI, the jump host) sweeps the plant in address order, one
//!   alert every 5 to 150 ms, `burst` alerts in all: first an address sweep (row 44 ARP Address
//!   Scan for hosts on its own subnet, row 41 Address Scan across subnets), then a port sweep
//!   (row 42, one fixed source port, a new destination port each alert), then a PLC sweep (row
//!   43, field devices in the protocol each speaks). Same source, many destinations.
//! - **plc-program-stop** (`plc-program-stop`): an unauthorized programming device (the rogue
//!   laptop or an HMI, never an engineering workstation, which is the *authorized* programmer)
//!   takes over one PLC, 2 to 20 s per step, over the one protocol the PLC speaks: configuration
//!   read (row 4), program upload (row 2), program download (row 1), then the firmware change the
//!   protocol allows (S7-Plus: row 6; ADS: row 7; S7, EtherNet/IP, Modbus/TCP: rows 70 then 5;
//!   others: none), then the stop command (S7: row 85; GE SRTP: row 86; others: row 84), and
//!   finally the HMI or SCADA master that polls the stopped PLC reports it unresponsive (row 90)
//!   when the protocol allows. `burst` does not change the story's length.
//! - **malware-outbreak** (`malware-outbreak`): one SMB worm family (rows 74 WannaCry, 75
//!   NotPetya, alternating with row 81 PsExec as NotPetya does, 76 DoublePulsar, 77 Conficker)
//!   enters through a DMZ host or the contractor laptop and spreads, 1 to 20 s per hop, to the
//!   hosts nearest its zone first (DMZ, then operations, then supervisory, or the reverse),
//!   always from an already infected host, the nearest one to the target; every fourth alert is
//!   an infected host calling its command-and-control address (row 78). `burst` alerts in all;
//!   once every host is infected, the rest are re-infection attempts between infected hosts.
//! - **sensor-loss** (`sensor-loss`): one sensor stops seeing traffic on its monitoring interface.
//!   1 to 5 s after the loss it reports a `Sensor offline` system notification (the situation of
//!   Defender for IoT's "No Traffic Detected on Sensor Interface" alert); from the loss until it
//!   recovers, none of its alerts happen (the silence); then it reports `Sensor online` with
//!   Defender for IoT's wording ("The sensor resumed detecting network traffic on ens224."). The
//!   silence lasts `burst` mean background intervals, at least 10 s.
//! - **mixed** (`mixed`): the four stories above in a seeded random order, each told once before
//!   any is told again, over the background.
//!
//! Guarantees (tested): the same [`Params`] give exactly the same events, and another seed gives
//! different ones; exactly `count` events; offsets never decrease and each event's time is
//! `start_ms + offset_ms`; ids start at 1 and increase by one (unique per sensor, so the stable
//! event ids `<sensor>-<id>` never collide). The background and the stories draw from two
//! separate random streams of the seed, so the background of `scan` is the background of
//! `steady` with the scan alerts inserted.
//!
//! ```
//! use icsfwd_sim::scenario::{Params, Scenario};
//!
//! let params = Params { seed: 7, count: 50, ..Params::default() };
//! let a: Vec<_> = Scenario::Scan.events(&params).unwrap().collect();
//! let b: Vec<_> = Scenario::Scan.events(&params).unwrap().collect();
//! assert_eq!(a.len(), 50);
//! assert_eq!(a, b);
//! assert!(a.windows(2).all(|w| w[0].0 <= w[1].0));
//! ```

use std::collections::VecDeque;
use std::fmt;

use icsfwd_core::alert::{Alert, Engine, Event, Notification, NotificationKind};

use crate::catalogue::{CATALOGUE, Entry};
use crate::generator::{Draw, Rng, pick_pair, pick_sensor, render, sensor_of};
use crate::plant::{DEVICES, Device, Role, SENSORS, SensorSite, Zone, well_known_port};

/// A scenario of the alert generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Scenario {
    /// Background alerts only, at a steady rate.
    Steady,
    /// Address and port scan bursts from one scanner over the background.
    Scan,
    /// An unauthorized device programs a PLC and stops it.
    PlcProgramStop,
    /// A worm spreads from host to host, zone to zone.
    MalwareOutbreak,
    /// A sensor loses traffic (offline notification), falls silent, and comes back.
    SensorLoss,
    /// All the stories, in a seeded order, over the background.
    Mixed,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Scenario; 6] = [
        Scenario::Steady,
        Scenario::Scan,
        Scenario::PlcProgramStop,
        Scenario::MalwareOutbreak,
        Scenario::SensorLoss,
        Scenario::Mixed,
    ];

    /// The command-line name, e.g. `plc-program-stop`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scenario::Steady => "steady",
            Scenario::Scan => "scan",
            Scenario::PlcProgramStop => "plc-program-stop",
            Scenario::MalwareOutbreak => "malware-outbreak",
            Scenario::SensorLoss => "sensor-loss",
            Scenario::Mixed => "mixed",
        }
    }

    /// The scenario's events for `params`, or why the parameters are refused.
    pub fn events(self, params: &Params) -> Result<Events, ParamsError> {
        Events::new(self, params)
    }

    fn stories(self) -> &'static [Story] {
        match self {
            Scenario::Steady => &[],
            Scenario::Scan => &[Story::Scan],
            Scenario::PlcProgramStop => &[Story::PlcProgramStop],
            Scenario::MalwareOutbreak => &[Story::MalwareOutbreak],
            Scenario::SensorLoss => &[Story::SensorLoss],
            Scenario::Mixed => &[
                Story::Scan,
                Story::PlcProgramStop,
                Story::MalwareOutbreak,
                Story::SensorLoss,
            ],
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The parameters of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Background events per second ([`MIN_RATE`]..=[`MAX_RATE`]).
    pub rate: f64,
    /// Events in a burst: alerts of a scan or an outbreak, mean intervals of a sensor's silence
    /// (1..=[`MAX_BURST`]).
    pub burst: u32,
    /// Total number of events.
    pub count: u64,
    /// The seed: the same seed replays the same events.
    pub seed: u64,
    /// Time of offset 0, in milliseconds since the Unix epoch.
    pub start_ms: u64,
}

impl Default for Params {
    /// 10 events/s, bursts of 50, 1000 events, seed 1, starting 2023-11-14T22:13:20Z.
    fn default() -> Params {
        Params {
            rate: 10.0,
            burst: 50,
            count: 1000,
            seed: 1,
            start_ms: 1_700_000_000_000,
        }
    }
}

/// The lowest accepted [`Params::rate`], in events per second (one every 1000 s).
pub const MIN_RATE: f64 = 0.001;
/// The highest accepted [`Params::rate`], in events per second.
pub const MAX_RATE: f64 = 1_000_000.0;
/// The highest accepted [`Params::burst`] (an episode is built whole, so this bounds memory).
pub const MAX_BURST: u32 = 10_000;

/// Why [`Params`] were refused.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ParamsError {
    /// The rate is not a number in `MIN_RATE..=MAX_RATE`.
    Rate(f64),
    /// The burst is not in `1..=MAX_BURST`.
    Burst(u32),
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamsError::Rate(rate) => write!(
                f,
                "rate {rate} is out of range: give {MIN_RATE} to {MAX_RATE} events per second"
            ),
            ParamsError::Burst(burst) => {
                write!(f, "burst {burst} is out of range: give 1 to {MAX_BURST}")
            }
        }
    }
}

impl std::error::Error for ParamsError {}

/// One telling of a story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Story {
    Scan,
    PlcProgramStop,
    MalwareOutbreak,
    SensorLoss,
}

/// A story event waiting for its time; its id is given when it is emitted.
#[derive(Debug, Clone)]
struct Pending {
    at_us: u64,
    event: Event,
}

/// A sensor's silence: none of its alerts in `from_us..until_us`.
#[derive(Debug, Clone, Copy)]
struct Silence {
    sensor: &'static str,
    from_us: u64,
    until_us: u64,
}

/// The events of a scenario, in time order: `(offset_ms, event)`.
#[derive(Debug, Clone)]
pub struct Events {
    stories: &'static [Story],
    /// The stories of the current round of `mixed`, in the order still to tell.
    round: Vec<Story>,
    background_rng: Rng,
    story_rng: Rng,
    background: Vec<&'static Entry>,
    start_ms: u64,
    count: u64,
    emitted: u64,
    burst: u32,
    mean_us: u64,
    background_at_us: u64,
    next_episode_at_us: Option<u64>,
    pending: VecDeque<Pending>,
    silence: Option<Silence>,
}

/// The story stream's seed is the background's, changed so the two streams differ.
const STORY_STREAM: u64 = 0x5ce7_a410_5e7f_0000;

impl Events {
    fn new(scenario: Scenario, params: &Params) -> Result<Events, ParamsError> {
        if !(MIN_RATE..=MAX_RATE).contains(&params.rate) {
            return Err(ParamsError::Rate(params.rate));
        }
        if !(1..=MAX_BURST).contains(&params.burst) {
            return Err(ParamsError::Burst(params.burst));
        }
        // 1..=1e9 after the check above.
        let mean_us = ((1_000_000.0 / params.rate).round() as u64).max(1);
        let mut story_rng = Rng::new(params.seed ^ STORY_STREAM);
        let stories = scenario.stories();
        let next_episode_at_us = if stories.is_empty() {
            None
        } else {
            Some((3 + story_rng.below(8)) * mean_us)
        };
        let mut background_rng = Rng::new(params.seed);
        let background_at_us = interval(&mut background_rng, mean_us);
        Ok(Events {
            stories,
            round: Vec::new(),
            background_rng,
            story_rng,
            background: CATALOGUE.iter().filter(|e| is_background(e)).collect(),
            start_ms: params.start_ms,
            count: params.count,
            emitted: 0,
            burst: params.burst,
            mean_us,
            background_at_us,
            next_episode_at_us,
            pending: VecDeque::new(),
            silence: None,
        })
    }

    /// The next background alert, at `at_us`.
    fn background_alert(&mut self, at_us: u64) -> Alert {
        let rng = &mut self.background_rng;
        let entry = rng.pick(&self.background).copied().unwrap_or(&FALLBACK);
        let (protocol, source, destination) = pick_pair(rng, entry);
        let sensor = pick_sensor(rng, source, destination);
        let dst_port = entry.port.or_else(|| well_known_port(protocol));
        let src_port = dst_port.map(|_| ephemeral_port(rng));
        let detail = 1 + rng.below(999);
        render(&Draw {
            entry,
            protocol,
            source,
            destination,
            sensor,
            id: 0,
            time_ms: self.start_ms.saturating_add(at_us / 1000),
            src_port,
            dst_port,
            detail,
        })
    }

    /// Builds the next episode, starting at `at_us`, into `pending`.
    fn start_episode(&mut self, at_us: u64) {
        if self.round.is_empty() {
            self.round = self.stories.to_vec();
            shuffle(&mut self.story_rng, &mut self.round);
        }
        let story = self.round.pop().unwrap_or(Story::Scan);
        let mut episode = Episode {
            rng: &mut self.story_rng,
            mean_us: self.mean_us,
            start_ms: self.start_ms,
            at_us,
            events: Vec::new(),
        };
        match story {
            Story::Scan => episode.scan(self.burst),
            Story::PlcProgramStop => episode.plc_program_stop(),
            Story::MalwareOutbreak => episode.malware_outbreak(self.burst),
            Story::SensorLoss => {
                let silent_us = u64::from(self.burst) * self.mean_us;
                self.silence = episode.sensor_loss(silent_us);
            }
        }
        let end_us = episode.at_us;
        self.pending.extend(episode.events);
        let quiet = u64::from(self.burst) + self.story_rng.below(2 * u64::from(self.burst) + 1);
        self.next_episode_at_us = Some(end_us + quiet.max(1) * self.mean_us);
    }

    /// Whether `event` falls in a sensor's silence.
    fn silenced(&self, at_us: u64, event: &Event) -> bool {
        match (&self.silence, event) {
            (Some(s), Event::Alert(alert)) => {
                alert.sensor.name.as_str() == s.sensor && (s.from_us..s.until_us).contains(&at_us)
            }
            _ => false,
        }
    }
}

impl Iterator for Events {
    type Item = (u64, Event);

    fn next(&mut self) -> Option<(u64, Event)> {
        while self.emitted < self.count {
            if self.pending.is_empty()
                && let Some(at_us) = self.next_episode_at_us
                && at_us <= self.background_at_us
            {
                self.start_episode(at_us);
                continue;
            }
            let story_first = self
                .pending
                .front()
                .is_some_and(|story| story.at_us <= self.background_at_us);
            let (at_us, mut event) = match self.pending.pop_front() {
                Some(story) if story_first => (story.at_us, story.event),
                later => {
                    if let Some(story) = later {
                        self.pending.push_front(story);
                    }
                    let at_us = self.background_at_us;
                    let alert = self.background_alert(at_us);
                    self.background_at_us += interval(&mut self.background_rng, self.mean_us);
                    (at_us, Event::Alert(alert))
                }
            };
            if self.silenced(at_us, &event) {
                continue;
            }
            self.emitted += 1;
            match &mut event {
                Event::Alert(alert) => alert.id = self.emitted,
                Event::Notification(notification) => notification.id = self.emitted,
            }
            return Some((at_us / 1000, event));
        }
        None
    }
}

/// Whether `entry` belongs to the background rather than to a story.
fn is_background(entry: &Entry) -> bool {
    !STORY_ROWS.contains(&entry.row)
        && entry.engine != Engine::Malware
        && !matches!(
            entry.group,
            "Scan" | "Programming" | "Firmware change" | "Restart/stop commands"
        )
}

/// Rows the stories tell; the background leaves them out (with the groups of
/// [`is_background`]) so a story is not diluted by look-alikes.
const STORY_ROWS: &[u16] = &[1, 2, 4, 5, 6, 7, 41, 42, 43, 44, 70, 78, 81, 84, 85, 86];

/// A background interval: 0.5 to 1.5 times the mean.
fn interval(rng: &mut Rng, mean_us: u64) -> u64 {
    (mean_us / 2 + rng.below(mean_us + 1)).max(1)
}

fn ephemeral_port(rng: &mut Rng) -> u16 {
    49_152 + (rng.below(16_384) as u16)
}

/// Fisher–Yates with `rng`.
fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = usize::try_from(rng.below(i as u64 + 1)).unwrap_or(0);
        items.swap(i, j);
    }
}

/// The catalogue entry numbered `row`.
fn entry(row: u16) -> Option<&'static Entry> {
    CATALOGUE.iter().find(|e| e.row == row)
}

/// The Purdue level of a zone, for "nearest zone first".
fn level(zone: Zone) -> u64 {
    match zone {
        Zone::Internet => 0,
        Zone::Dmz => 1,
        Zone::Operations => 2,
        Zone::Supervisory => 3,
        Zone::Control | Zone::Substation => 4,
    }
}

/// Destination ports a port scan sweeps, in the order a scanner's "top ports" list has them.
const SWEPT_PORTS: &[u16] = &[
    21, 22, 23, 25, 53, 80, 102, 110, 135, 139, 161, 443, 445, 502, 1433, 1911, 2404, 3389, 4840,
    5007, 5900, 8080, 9600, 18245, 20000, 44818, 47808, 48898,
];

/// Monitoring interfaces a sensor may lose traffic on.
const INTERFACES: &[&str] = &["ens224", "ens256", "eth1"];

/// One episode being built: its events, in time order, and its clock.
struct Episode<'a> {
    rng: &'a mut Rng,
    mean_us: u64,
    start_ms: u64,
    at_us: u64,
    events: Vec<Pending>,
}

/// The parts of one story alert that the story chooses.
struct Step<'a> {
    row: u16,
    protocol: &'a str,
    source: &'a Device,
    destination: &'a Device,
    /// `None`: one of the sensors watching the pair, drawn when the alert is made.
    sensor: Option<&'a SensorSite>,
    src_port: Option<u16>,
    dst_port: Option<u16>,
}

impl Episode<'_> {
    /// Moves the clock on by `min_us..=max_us`.
    fn wait(&mut self, min_us: u64, max_us: u64) {
        self.at_us += min_us + self.rng.below(max_us.saturating_sub(min_us) + 1);
    }

    /// Moves the clock on by `min..=max` mean background intervals.
    fn wait_intervals(&mut self, min: u64, max: u64) {
        self.wait(min * self.mean_us, max * self.mean_us);
    }

    fn time_ms(&self) -> u64 {
        self.start_ms.saturating_add(self.at_us / 1000)
    }

    /// Adds the alert of `step` at the current time; a row missing from the catalogue is
    /// skipped.
    fn alert(&mut self, step: &Step<'_>) {
        let Some(entry) = entry(step.row) else {
            return;
        };
        let sensor = match step.sensor {
            Some(sensor) => sensor,
            None => pick_sensor(self.rng, step.source, step.destination),
        };
        let detail = 1 + self.rng.below(999);
        let alert = render(&Draw {
            entry,
            protocol: step.protocol,
            source: step.source,
            destination: step.destination,
            sensor,
            id: 0,
            time_ms: self.time_ms(),
            src_port: step.src_port,
            dst_port: step.dst_port,
            detail,
        });
        self.events.push(Pending {
            at_us: self.at_us,
            event: Event::Alert(alert),
        });
    }

    fn pick_device(&mut self, filter: impl Fn(&Device) -> bool) -> Option<&'static Device> {
        let devices: Vec<&'static Device> = DEVICES.iter().filter(|d| filter(d)).collect();
        self.rng.pick(&devices).copied()
    }

    /// One scanner sweeps the plant: addresses, then ports, then PLCs.
    fn scan(&mut self, burst: u32) {
        let (Some(address), Some(plc)) = (entry(41), entry(43)) else {
            return;
        };
        let Some(scanner) =
            self.pick_device(|d| address.sources.contains(&d.role) && d.zone != Zone::Internet)
        else {
            return;
        };
        let mut hosts: Vec<&'static Device> = DEVICES
            .iter()
            .filter(|d| d.zone != Zone::Internet && d.name != scanner.name)
            .collect();
        hosts.sort_by_key(|d| d.ip);
        let mut field: Vec<&'static Device> = DEVICES
            .iter()
            .filter(|d| {
                plc.destinations.contains(&d.role) && plc.protocols.iter().any(|p| d.speaks(p))
            })
            .collect();
        field.sort_by_key(|d| d.ip);
        let first_host = self.rng.below(hosts.len() as u64) as usize;
        let first_port = self.rng.below(SWEPT_PORTS.len() as u64) as usize;
        // A SYN scanner keeps one source port for the whole sweep.
        let scanner_port = ephemeral_port(self.rng);
        // Faster than the background: at most half a mean interval and 150 ms between alerts.
        let gap_us = (self.mean_us / 2).clamp(10, 150_000);
        let burst = burst as usize;
        for i in 0..burst {
            self.wait(gap_us / 10, gap_us);
            let host = hosts.get((first_host + i) % hosts.len().max(1));
            let phase = 3 * i / burst;
            let step = match (phase, host) {
                (0, Some(host)) => {
                    let same_subnet = host.ip[..3] == scanner.ip[..3];
                    let (row, protocol) = if same_subnet {
                        (44, "ARP")
                    } else {
                        (41, *self.rng.pick(&["ICMP", "TCP"]).unwrap_or(&"ICMP"))
                    };
                    Some(Step {
                        row,
                        protocol,
                        source: scanner,
                        destination: host,
                        sensor: None,
                        src_port: None,
                        dst_port: None,
                    })
                }
                (1, Some(host)) => {
                    let port = SWEPT_PORTS
                        .get((first_port + i) % SWEPT_PORTS.len())
                        .copied();
                    let protocol = if self.rng.below(4) == 0 { "UDP" } else { "TCP" };
                    Some(Step {
                        row: 42,
                        protocol,
                        source: scanner,
                        destination: host,
                        sensor: None,
                        src_port: Some(scanner_port),
                        dst_port: port,
                    })
                }
                _ => field
                    .get((first_host + i) % field.len().max(1))
                    .copied()
                    .and_then(|device| {
                        let spoken: Vec<&'static str> = plc
                            .protocols
                            .iter()
                            .copied()
                            .filter(|p| device.speaks(p))
                            .collect();
                        let protocol = self.rng.pick(&spoken).copied()?;
                        Some(Step {
                            row: 43,
                            protocol,
                            source: scanner,
                            destination: device,
                            sensor: None,
                            src_port: Some(scanner_port),
                            dst_port: well_known_port(protocol),
                        })
                    }),
            };
            if let Some(step) = step {
                self.alert(&step);
            }
        }
    }

    /// An unauthorized device programs a PLC, changes its firmware and stops it.
    fn plc_program_stop(&mut self) {
        let Some(programming) = entry(1) else {
            return;
        };
        let Some(plc) = self.pick_device(|d| d.role == Role::Plc) else {
            return;
        };
        let spoken: Vec<&'static str> = programming
            .protocols
            .iter()
            .copied()
            .filter(|p| plc.speaks(p))
            .collect();
        let Some(protocol) = self.rng.pick(&spoken).copied() else {
            return;
        };
        let Some(attacker) = self.pick_device(|d| {
            programming.sources.contains(&d.role)
                && d.role != Role::EngineeringWorkstation
                && (d.speaks(protocol) || d.role == Role::RogueLaptop)
        }) else {
            return;
        };
        let sensor = pick_sensor(self.rng, attacker, plc);
        let session_port = ephemeral_port(self.rng);
        let mut rows = vec![4, 2, 1];
        match protocol {
            "S7-Plus" => rows.push(6),
            "AMS (ADS)" => rows.push(7),
            p if entry(70).is_some_and(|e| e.protocols.contains(&p)) => rows.extend([70, 5]),
            _ => {}
        }
        rows.push(match protocol {
            "S7" => 85,
            "GE SRTP" => 86,
            _ => 84,
        });
        for row in rows {
            if !entry(row).is_some_and(|e| e.protocols.contains(&protocol)) {
                continue;
            }
            self.wait_intervals(2, 20);
            let dst_port = entry(row)
                .and_then(|e| e.port)
                .or_else(|| well_known_port(protocol));
            self.alert(&Step {
                row,
                protocol,
                source: attacker,
                destination: plc,
                sensor: Some(sensor),
                src_port: dst_port.map(|_| session_port),
                dst_port,
            });
        }
        // The operators notice: the master polling the PLC gets no answer.
        let Some(unresponsive) = entry(90).filter(|e| e.protocols.contains(&protocol)) else {
            return;
        };
        // Operators watch through HMIs, SCADA and OPC servers; an engineering workstation only
        // when nothing else polls the PLC in its protocol.
        let polls = |d: &Device| {
            unresponsive.sources.contains(&d.role)
                && d.role != Role::RogueLaptop
                && d.name != attacker.name
                && d.speaks(protocol)
        };
        let master = self
            .pick_device(|d| {
                polls(d) && matches!(d.role, Role::Hmi | Role::ScadaServer | Role::OpcServer)
            })
            .or_else(|| self.pick_device(polls));
        if let Some(master) = master {
            self.wait_intervals(5, 30);
            let dst_port = well_known_port(protocol);
            let src_port = dst_port.map(|_| ephemeral_port(self.rng));
            self.alert(&Step {
                row: 90,
                protocol,
                source: master,
                destination: plc,
                sensor: None,
                src_port,
                dst_port,
            });
        }
    }

    /// A worm spreads over SMB from host to host, nearest zone first.
    fn malware_outbreak(&mut self, burst: u32) {
        let family = *self.rng.pick(&[74u16, 75, 76, 77]).unwrap_or(&74);
        let Some(worm) = entry(family) else {
            return;
        };
        let c2 = entry(78);
        let Some((patient_zero, targets)) = self.outbreak_plan(worm) else {
            return;
        };
        let mut targets = targets.into_iter();
        let mut infected = vec![patient_zero];
        let malicious: Vec<&'static Device> = DEVICES
            .iter()
            .filter(|d| d.role == Role::MaliciousHost)
            .collect();
        for i in 0..burst {
            self.wait_intervals(1, 10);
            if i % 4 == 3
                && let Some(c2) = c2
                && self.c2_callback(c2, &infected, &malicious)
            {
                continue;
            }
            let Some((source, destination)) =
                self.next_infection(&mut targets, &mut infected, patient_zero)
            else {
                continue;
            };
            // NotPetya spreads with EternalBlue-like SMB and with PsExec in turn.
            let row = if family == 75 && i % 2 == 1 {
                81
            } else {
                family
            };
            let dst_port = well_known_port("SMB");
            let src_port = dst_port.map(|_| ephemeral_port(self.rng));
            self.alert(&Step {
                row,
                protocol: "SMB",
                source,
                destination,
                sensor: None,
                src_port,
                dst_port,
            });
        }
    }

    /// Where an outbreak of `worm` starts (a host in the DMZ, or the rogue laptop) and the
    /// other hosts it can reach over SMB, in the order it reaches them: nearest zone first,
    /// ties in random order.
    fn outbreak_plan(&mut self, worm: &Entry) -> Option<(&'static Device, Vec<&'static Device>)> {
        let hosts: Vec<&'static Device> = DEVICES
            .iter()
            .filter(|d| {
                worm.sources.contains(&d.role)
                    && worm.destinations.contains(&d.role)
                    && (d.speaks("SMB") || d.role == Role::RogueLaptop)
            })
            .collect();
        let entries: Vec<&'static Device> = hosts
            .iter()
            .copied()
            .filter(|d| d.zone == Zone::Dmz || d.role == Role::RogueLaptop)
            .collect();
        let patient_zero = self.rng.pick(&entries).copied()?;
        let home = level(patient_zero.zone);
        let mut targets: Vec<(u64, u64, &'static Device)> = hosts
            .iter()
            .filter(|d| d.name != patient_zero.name)
            .map(|d| (level(d.zone).abs_diff(home), self.rng.next_u64(), *d))
            .collect();
        targets.sort_by_key(|(distance, key, _)| (*distance, *key));
        Some((
            patient_zero,
            targets.into_iter().map(|(_, _, d)| d).collect(),
        ))
    }

    /// An infected host calls a malicious server (catalogue row 78, `c2`); `false` when no
    /// infected host, server or protocol could be picked, and nothing was emitted.
    fn c2_callback(
        &mut self,
        c2: &Entry,
        infected: &[&'static Device],
        malicious: &[&'static Device],
    ) -> bool {
        let callers: Vec<&'static Device> = infected
            .iter()
            .copied()
            .filter(|d| c2.sources.contains(&d.role))
            .collect();
        let (Some(caller), Some(server), Some(protocol)) = (
            self.rng.pick(&callers).copied(),
            self.rng.pick(malicious).copied(),
            self.rng.pick(c2.protocols).copied(),
        ) else {
            return false;
        };
        let dst_port = well_known_port(protocol);
        let src_port = dst_port.map(|_| ephemeral_port(self.rng));
        self.alert(&Step {
            row: 78,
            protocol,
            source: caller,
            destination: server,
            sensor: None,
            src_port,
            dst_port,
        });
        true
    }

    /// The next spread, `(source, destination)`: to the next uninfected target from the
    /// nearest infected host; once all are infected, between two random infected hosts
    /// (`None` when the two picked are one).
    fn next_infection(
        &mut self,
        targets: &mut impl Iterator<Item = &'static Device>,
        infected: &mut Vec<&'static Device>,
        patient_zero: &'static Device,
    ) -> Option<(&'static Device, &'static Device)> {
        let Some(target) = targets.next() else {
            let a = self.rng.pick(infected).copied();
            let b = self.rng.pick(infected).copied();
            return match (a, b) {
                (Some(a), Some(b)) if a.name != b.name => Some((a, b)),
                _ => None,
            };
        };
        let nearest = infected
            .iter()
            .map(|d| level(d.zone).abs_diff(level(target.zone)))
            .min()
            .unwrap_or(0);
        let near: Vec<&'static Device> = infected
            .iter()
            .copied()
            .filter(|d| level(d.zone).abs_diff(level(target.zone)) == nearest)
            .collect();
        let source = self.rng.pick(&near).copied().unwrap_or(patient_zero);
        infected.push(target);
        Some((source, target))
    }

    /// A sensor loses traffic for `silent_us`: offline notification, silence, online
    /// notification. Returns the silence.
    fn sensor_loss(&mut self, silent_us: u64) -> Option<Silence> {
        let site = self.rng.pick(SENSORS)?;
        let interface = *self.rng.pick(INTERFACES).unwrap_or(&"ens224");
        let from_us = self.at_us;
        let until_us = from_us + silent_us;
        self.wait_intervals(1, 5);
        let zones: Vec<String> = site.watches.iter().map(|z| format!("{z:?}")).collect();
        self.notification(
            site,
            NotificationKind::SensorOffline,
            &format!(
                "No traffic detected on sensor interface {interface} of {}: alerts from the zones \
                 it watches ({}) are missing until traffic resumes.",
                site.name,
                zones.join(", ")
            ),
        );
        self.at_us = until_us;
        self.notification(
            site,
            NotificationKind::SensorOnline,
            &format!("The sensor resumed detecting network traffic on {interface}."),
        );
        Some(Silence {
            sensor: site.name,
            from_us,
            until_us,
        })
    }

    fn notification(&mut self, site: &SensorSite, kind: NotificationKind, text: &str) {
        let mut notification = Notification::new(0, self.time_ms(), kind);
        notification.sensor = sensor_of(site);
        notification.set_text(text);
        self.events.push(Pending {
            at_us: self.at_us,
            event: Event::Notification(notification),
        });
    }
}

const FALLBACK: Entry = Entry {
    row: 0,
    title: "Unknown",
    engine: Engine::Anomaly,
    severity: icsfwd_core::alert::Severity::Warning,
    group: "",
    protocols: &["TCP"],
    sources: &[Role::RogueLaptop],
    destinations: &[Role::Hmi],
    port: None,
    message: "{src} -> {dst}",
};
