//! A catalogue of realistic OT alerts, one entry per kind of alert a sensor raises.
//!
//! Titles, engines, severities (the sensor scale) and alert groups are those of Microsoft's
//! Defender for IoT alert reference (azure-docs,
//! `articles/defender-for-iot/organizations/alert-engine-messages.md`: severities as of its
//! 2021-12-13 version, alert groups as of 2022-11-23). Its alerts are numbered here 1–99, engine
//! by engine (Policy Violation, Anomaly, Protocol Violation, Malware, Operational):
//! [`Entry::row`]. The documentation has no protocol column: protocols are taken from each
//! alert's title or description, with names from Defender for IoT's list of supported protocols
//! for the generic "PLC" rows. The message templates are ours, written after the message shapes
//! of the same documentation; they use these placeholders, which the generator fills:
//!
//! | placeholder | value |
//! |---|---|
//! | `{src}`, `{dst}` | source / destination device names |
//! | `{src_ip}`, `{dst_ip}` | their IPv4 addresses |
//! | `{dst_net16}` | the destination's /16 network, e.g. `10.10.0.0/16` |
//! | `{protocol}` | the protocol drawn for the alert |
//! | `{port}` | the destination port (only in entries whose protocols all have a port) |
//! | `{n}` | a detail number 1..=999 (register, point index, object instance) |
//!
//! Each entry also says which [`Role`]s may be its source and destination, so the generator
//! draws plausible pairs (a PLC is programmed *from* a workstation, an outstation restart
//! concerns an RTU, an Internet-access alert goes to an Internet host).
//!
//! Rows left out, and why:
//! - 14 Unauthorized Multicast/Broadcast Connection: its destination is a group address, not a
//!   device of the plant model.
//! - 21 DeltaV, 34 Toshiba Computer Link: no such controllers in the plant model.
//! - 40 User Defined Rule: its content is whatever the customer's rule says.
//! - 83 Backup Activity with Antivirus Signatures, 97 Expected Backup Operation Did Not Occur,
//!   98/99 (No) Traffic Detected on Sensor Interface: sensor or backup health with no
//!   source/destination pair; the forwarder's system notifications cover that ground.
//!
//! Severities are those of the 2021 documentation. Its 2022 version lists rows 78, 79, 81 and
//! 82 as High (= Critical); we keep Major, and the table is plain data, easy to change (the
//! documentation itself warns that alerts change between sensor versions).
//!
//! ```
//! use icsfwd_sim::catalogue::CATALOGUE;
//!
//! let programming = CATALOGUE.iter().find(|e| e.row == 1).unwrap();
//! assert_eq!(programming.title, "Unauthorized PLC Programming");
//! assert!(programming.message.contains("{src}"));
//! ```

use icsfwd_core::alert::{Engine, Severity};

use crate::plant::Role;

/// One kind of alert the generator can raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The alert's number, 1–99, engine by engine (see the module docs).
    pub row: u16,
    /// The alert title.
    pub title: &'static str,
    /// The engine that raises it.
    pub engine: Engine,
    /// Its default severity.
    pub severity: Severity,
    /// Its alert group.
    pub group: &'static str,
    /// The protocols it is seen with (one is drawn per alert).
    pub protocols: &'static [&'static str],
    /// The roles its source device may have.
    pub sources: &'static [Role],
    /// The roles its destination device may have.
    pub destinations: &'static [Role],
    /// A destination port that overrides the protocol's well-known one.
    pub port: Option<u16>,
    /// The message template (see the module docs for the placeholders).
    pub message: &'static str,
}

impl Entry {
    const fn with_port(mut self, port: u16) -> Entry {
        self.port = Some(port);
        self
    }
}

#[allow(clippy::too_many_arguments, reason = "a table row constructor")]
const fn e(
    row: u16,
    title: &'static str,
    engine: Engine,
    severity: Severity,
    group: &'static str,
    protocols: &'static [&'static str],
    sources: &'static [Role],
    destinations: &'static [Role],
    message: &'static str,
) -> Entry {
    Entry {
        row,
        title,
        engine,
        severity,
        group,
        protocols,
        sources,
        destinations,
        port: None,
        message,
    }
}

use Engine::{
    Anomaly as AN, Malware as MW, Operational as OP, PolicyViolation as PV, ProtocolViolation as PR,
};
use Role as R;
use Severity::{Critical as CRIT, Major as MAJ, Minor as MIN, Warning as WARN};

// Protocol sets.
const PLC_PROTOCOLS: &[&str] = &[
    "S7",
    "S7-Plus",
    "EtherNet/IP",
    "Modbus/TCP",
    "Omron FINS",
    "Melsec",
    "GE SRTP",
    "AMS (ADS)",
];
const OT_PROTOCOLS: &[&str] = &[
    "S7",
    "EtherNet/IP",
    "Modbus/TCP",
    "DNP3",
    "IEC 60870-5-104",
    "BACnet",
    "OPC UA",
    "IEC 61850 MMS",
];
const FIRMWARE_PROTOCOLS: &[&str] = &["S7", "EtherNet/IP", "Modbus/TCP", "FTP", "HTTP"];
const TCP_UDP: &[&str] = &["TCP", "UDP"];
const INTERNET: &[&str] = &["HTTP", "TLS", "DNS"];

// Role sets.
const PROGRAMMERS: &[Role] = &[R::EngineeringWorkstation, R::RogueLaptop, R::Hmi];
const MASTERS: &[Role] = &[
    R::Hmi,
    R::EngineeringWorkstation,
    R::ScadaServer,
    R::OpcServer,
    R::RogueLaptop,
];
const SCADA_MASTERS: &[Role] = &[
    R::ScadaServer,
    R::Hmi,
    R::EngineeringWorkstation,
    R::RogueLaptop,
];
const PLCS: &[Role] = &[R::Plc];
const FIELD: &[Role] = &[R::Plc, R::Rtu, R::Ied, R::BuildingController];
const OUTSTATIONS: &[Role] = &[R::Rtu, R::Ied];
const RTUS: &[Role] = &[R::Rtu];
const IEDS: &[Role] = &[R::Ied];
const BMS: &[Role] = &[R::BuildingController];
const WINDOWS_HOSTS: &[Role] = &[
    R::Hmi,
    R::EngineeringWorkstation,
    R::ScadaServer,
    R::Historian,
    R::OpcServer,
    R::DomainController,
    R::DatabaseServer,
    R::BackupServer,
    R::JumpHost,
    R::RogueLaptop,
];
const SERVERS: &[Role] = &[
    R::Historian,
    R::OpcServer,
    R::DomainController,
    R::DatabaseServer,
    R::BackupServer,
    R::JumpHost,
];
const SCANNERS: &[Role] = &[
    R::RogueLaptop,
    R::EngineeringWorkstation,
    R::Hmi,
    R::JumpHost,
];
const INTERNAL: &[Role] = &[
    R::Hmi,
    R::EngineeringWorkstation,
    R::ScadaServer,
    R::Historian,
    R::OpcServer,
    R::DomainController,
    R::DatabaseServer,
    R::BackupServer,
    R::JumpHost,
    R::Plc,
    R::BuildingController,
    R::Rtu,
    R::Ied,
    R::RogueLaptop,
];
const INTERNET_USERS: &[Role] = &[
    R::Hmi,
    R::EngineeringWorkstation,
    R::Historian,
    R::JumpHost,
    R::BackupServer,
    R::RogueLaptop,
    R::Plc,
    R::BuildingController,
];
const INTERNET_HOSTS: &[Role] = &[R::InternetHost];
const MALICIOUS_HOSTS: &[Role] = &[R::MaliciousHost];
const DNS_RESOLVERS: &[Role] = &[R::DomainController];
const OPC_SERVERS: &[Role] = &[R::OpcServer, R::Historian];
const OPC_UA_SERVERS: &[Role] = &[R::OpcServer, R::Plc];
const OPC_CLIENTS: &[Role] = &[
    R::Hmi,
    R::Historian,
    R::EngineeringWorkstation,
    R::RogueLaptop,
];

/// The catalogue, grouped by engine, in row order.
#[rustfmt::skip]
pub const CATALOGUE: &[Entry] = &[
    // Policy Violation
    e(1, "Unauthorized PLC Programming", PV, CRIT, "Programming", PLC_PROTOCOLS, PROGRAMMERS, PLCS,
      "{src} ({src_ip}) downloaded a new program to {dst} ({dst_ip}) over {protocol}, but {src} is not a known programming device for this controller."),
    e(2, "Unauthorized PLC Program Upload", PV, MAJ, "Programming", PLC_PROTOCOLS, PROGRAMMERS, PLCS,
      "{src} ({src_ip}) uploaded the program of {dst} ({dst_ip}) over {protocol}; program uploads from this device are not authorized."),
    e(3, "Unauthorized PLC Configuration Write", PV, MAJ, "Configuration changes", PLC_PROTOCOLS, PROGRAMMERS, PLCS,
      "{src} ({src_ip}) wrote configuration parameters to {dst} ({dst_ip}) over {protocol} without authorization."),
    e(4, "Unauthorized PLC Configuration Read", PV, WARN, "Configuration changes", PLC_PROTOCOLS, PROGRAMMERS, PLCS,
      "{src} ({src_ip}) read the configuration of {dst} ({dst_ip}) over {protocol}; this device is not authorized to do so."),
    e(5, "Firmware Version Changed", PV, MAJ, "Firmware change", FIRMWARE_PROTOCOLS, PROGRAMMERS, FIELD,
      "The firmware version reported by {dst} ({dst_ip}) changed after a session with {src} ({src_ip}) over {protocol}."),
    e(6, "S7 Plus PLC Firmware Changed", PV, MAJ, "Firmware change", &["S7-Plus"], PROGRAMMERS, PLCS,
      "{src} ({src_ip}) changed the firmware of S7-1500 controller {dst} ({dst_ip}) over S7-Plus (port {port})."),
    e(7, "Beckhoff Software Changed", PV, MAJ, "Firmware change", &["AMS (ADS)"], PROGRAMMERS, PLCS,
      "{src} ({src_ip}) activated a new TwinCAT configuration on {dst} ({dst_ip}) over ADS (port {port})."),
    e(8, "New Asset Detected", PV, MAJ, "Discovery", &["ARP", "DNS", "TCP"], &[R::RogueLaptop], INTERNAL,
      "A new asset, {src} ({src_ip}), appeared on an OT subnet and started talking to {dst} ({dst_ip}) over {protocol}."),
    e(9, "Field Device Discovered Unexpectedly", PV, MAJ, "Discovery", &["Profinet DCP", "EtherNet/IP", "Modbus/TCP", "DNP3"], FIELD, &[R::Hmi, R::EngineeringWorkstation, R::ScadaServer],
      "Field device {src} ({src_ip}) was discovered unexpectedly while answering {dst} ({dst_ip}) over {protocol}."),
    e(10, "New Port Discovery", PV, WARN, "Discovery", &["SSH", "HTTP", "FTP", "SNMP", "TLS"], INTERNAL, INTERNAL,
      "{src} ({src_ip}) connected to {dst} ({dst_ip}) on port {port} ({protocol}), a port never seen open on {dst} before."),
    e(11, "Internet Access Detected", PV, MAJ, "Internet access", &["HTTP", "TLS", "DNS", "BACnet", "Modbus/TCP"], INTERNET_USERS, INTERNET_HOSTS,
      "{src} ({src_ip}) accessed an Internet address not allowed by policy: {dst_ip} over port {protocol} ({port})."),
    e(12, "Unauthorized Internet Connectivity Detected", PV, CRIT, "Internet access", &["HTTP", "TLS"], &[R::Plc, R::BuildingController, R::Rtu, R::Hmi], INTERNET_HOSTS,
      "{src} ({src_ip}), which must never reach the Internet, opened a {protocol} connection to {dst} ({dst_ip}) on port {port}."),
    e(13, "External address within the network communicated with Internet", PV, CRIT, "Internet access", INTERNET, INTERNET_USERS, INTERNET_HOSTS,
      "{src}, inside the plant network, uses address {src_ip} and exchanged {protocol} traffic with the Internet host {dst} ({dst_ip})."),
    e(15, "Modbus Address Range Violation", PV, MAJ, "Unauthorized communication behavior", &["Modbus/TCP"], MASTERS, FIELD,
      "Master {src} ({src_ip}) accessed holding register {n} of slave {dst} ({dst_ip}), outside the register ranges learned for this pair."),
    e(16, "Unpermitted Usage of Modbus Function Code", PV, MAJ, "Unauthorized communication behavior", &["Modbus/TCP"], MASTERS, FIELD,
      "{src} ({src_ip}) used Modbus function code 15 (Write Multiple Coils) on {dst} ({dst_ip}), which is not in the learned baseline."),
    e(17, "Unpermitted Usage of DNP3 Function Code", PV, MAJ, "Unauthorized communication behavior", &["DNP3"], SCADA_MASTERS, OUTSTATIONS,
      "DNP3 master {src} ({src_ip}) sent function code 5 (Direct Operate) to outstation {dst} ({dst_ip}); the policy does not allow it for this pair."),
    e(18, "Unpermitted Usage of ASDU Types", PV, MAJ, "Unauthorized communication behavior", &["IEC 60870-5-104"], SCADA_MASTERS, RTUS,
      "{src} ({src_ip}) sent ASDU type 45 (C_SC_NA_1, single command) with common address {n} to {dst} ({dst_ip}); this ASDU type is not permitted."),
    e(19, "New Activity Detected - CIP Class", PV, MAJ, "Unauthorized communication behavior", &["EtherNet/IP"], MASTERS, PLCS,
      "{src} ({src_ip}) accessed CIP class 0x6B (Symbol) on {dst} ({dst_ip}) for the first time."),
    e(20, "New Activity Detected - EtherNet/IP Protocol Command", PV, MAJ, "Unauthorized communication behavior", &["EtherNet/IP"], MASTERS, PLCS,
      "{src} ({src_ip}) sent the EtherNet/IP command ListIdentity (0x63) to {dst} ({dst_ip}) on port {port}, not seen before for this pair."),
    e(22, "New Activity Detected - Using Siemens SICAM Command", PV, MAJ, "Unauthorized communication behavior", &["SICAM"], SCADA_MASTERS, RTUS,
      "{src} ({src_ip}) sent a SICAM command not seen before to {dst} ({dst_ip})."),
    e(23, "Unauthorized Access to Siemens S7 Data Block", PV, WARN, "Unauthorized communication behavior", &["S7"], MASTERS, PLCS,
      "{src} ({src_ip}) read data block DB{n} of {dst} ({dst_ip}); this data block was not accessed from {src} before."),
    e(24, "Unauthorized Siemens S7 Execution of Control Function", PV, MAJ, "Unauthorized communication behavior", &["S7"], MASTERS, PLCS,
      "{src} ({src_ip}) executed an S7 control function (PI service) on {dst} ({dst_ip}) without authorization."),
    e(25, "Unauthorized MMS Program Access", PV, MAJ, "Programming", &["IEC 61850 MMS"], &[R::EngineeringWorkstation, R::ScadaServer, R::RogueLaptop], IEDS,
      "{src} ({src_ip}) accessed a program invocation on IED {dst} ({dst_ip}) over MMS (port {port}) without authorization."),
    e(26, "GOOSE Message Type Settings", PV, WARN, "Unauthorized communication behavior", &["IEC 61850 GOOSE"], IEDS, IEDS,
      "{src} published GOOSE messages with settings (dataset, confRev {n}) that differ from those learned for its subscriber {dst}."),
    e(27, "Unauthorized BACNet Object Access", PV, MAJ, "Unauthorized communication behavior", &["BACnet"], &[R::Hmi, R::EngineeringWorkstation, R::RogueLaptop], BMS,
      "{src} ({src_ip}) wrote the present value of analog-value {n} on {dst} ({dst_ip}); access to this object is not authorized."),
    e(28, "Unauthorized OPC UA Activity", PV, MAJ, "Unauthorized communication behavior", &["OPC UA"], OPC_CLIENTS, OPC_UA_SERVERS,
      "{src} ({src_ip}) called the OPC UA Write service on {dst} ({dst_ip}) (port {port}); this client is not authorized to write."),
    e(29, "Unauthorized Profinet Frame Type", PV, MAJ, "Unauthorized communication behavior", &["Profinet DCP"], PROGRAMMERS, PLCS,
      "{src} sent a Profinet DCP Set frame to {dst}; this frame type is not authorized on the cell network."),
    e(30, "Omron FINS Unauthorized Command", PV, MAJ, "Unauthorized communication behavior", &["Omron FINS"], MASTERS, PLCS,
      "{src} ({src_ip}) sent FINS command 0x0401 (Run) to {dst} ({dst_ip}); the command is not authorized."),
    e(31, "Unauthorized Mitsubishi MELSEC Command", PV, MAJ, "Unauthorized communication behavior", &["Melsec"], MASTERS, PLCS,
      "{src} ({src_ip}) sent a MELSEC remote STOP command to {dst} ({dst_ip}) on port {port}; the command is not authorized."),
    e(32, "Unauthorized GE SRTP Protocol Command", PV, MAJ, "Unauthorized communication behavior", &["GE SRTP"], MASTERS, PLCS,
      "{src} ({src_ip}) sent an SRTP service request not in the baseline to {dst} ({dst_ip}) on port {port}."),
    e(33, "Unauthorized Access to Wonderware Tag", PV, MAJ, "Unauthorized communication behavior", &["Wonderware SuiteLink"], &[R::Hmi, R::EngineeringWorkstation, R::RogueLaptop], &[R::Historian],
      "{src} ({src_ip}) accessed tag Line{n}.Setpoint on {dst} ({dst_ip}) over SuiteLink without authorization."),
    e(35, "Unauthorized SSH Access", PV, MAJ, "Remote access", &["SSH"], INTERNAL, INTERNAL,
      "{src} ({src_ip}) opened an SSH session to {dst} ({dst_ip}) on port {port}; SSH between these devices is not authorized."),
    e(36, "Unauthorized SMB Login", PV, MAJ, "Authentication", &["SMB"], WINDOWS_HOSTS, WINDOWS_HOSTS,
      "{src} ({src_ip}) logged in to {dst} ({dst_ip}) over SMB with an account not authorized on this host."),
    e(37, "FTP Login Failed", PV, MAJ, "Authentication", &["FTP"], INTERNAL, INTERNAL,
      "An FTP login from {src} ({src_ip}) to {dst} ({dst_ip}) on port {port} failed."),
    e(38, "Database Login Failed", PV, MAJ, "Authentication", &["TDS", "TNS"], WINDOWS_HOSTS, &[R::DatabaseServer, R::Historian],
      "{src} ({src_ip}) failed to log in to the database on {dst} ({dst_ip}) ({protocol}, port {port}) twice within 5 minutes."),
    e(39, "Suspicion of Illegal Integrity Scan", PV, MAJ, "Scan", &["DNP3"], &[R::RogueLaptop, R::Hmi, R::EngineeringWorkstation], RTUS,
      "{src} ({src_ip}) sent a DNP3 integrity poll (class 0123 read) to outstation {dst} ({dst_ip}); it is not the outstation's master."),
    // Anomaly
    e(41, "Address Scan Detected", AN, CRIT, "Scan", &["IP", "ICMP", "TCP"], SCANNERS, INTERNAL,
      "Address scan detected. Scanning address: {src_ip} ({src}). Scanned subnet: {dst_net16}. Scanned addresses include {dst_ip} and at least 49 more within 2 minutes."),
    e(42, "Port Scan Detected", AN, CRIT, "Scan", TCP_UDP, SCANNERS, INTERNAL,
      "{src} ({src_ip}) probed 25 {protocol} ports of {dst} ({dst_ip}) within 2 minutes."),
    e(43, "PLC Scan Detected", AN, CRIT, "Scan", OT_PROTOCOLS, SCANNERS, FIELD,
      "{src} ({src_ip}) sent {protocol} identification requests to {dst} ({dst_ip}) and 9 more controllers within 2 minutes."),
    e(44, "ARP Address Scan Detected", AN, CRIT, "Scan", &["ARP"], SCANNERS, INTERNAL,
      "{src} ({src_ip}) sent ARP requests for 40 addresses near {dst_ip} within 6 minutes."),
    e(45, "Long Duration Address Scan Detected", AN, CRIT, "Scan", &["IP", "TCP"], SCANNERS, INTERNAL,
      "{src} ({src_ip}) contacted 50 addresses of {dst_net16}, including {dst_ip}, within 10 minutes: a slow address scan."),
    e(46, "ARP Spoofing", AN, WARN, "Abnormal communication behavior", &["ARP"], &[R::RogueLaptop, R::Hmi, R::JumpHost], INTERNAL,
      "{src} sent 60 unsolicited ARP replies within one minute claiming the address of {dst} ({dst_ip})."),
    e(47, "ICMP Flooding", AN, WARN, "Abnormal communication behavior", &["ICMP"], SCANNERS, INTERNAL,
      "{src} ({src_ip}) sent more than 60 ICMP packets to {dst} ({dst_ip}) within one minute."),
    e(48, "Excessive Login Attempts", AN, CRIT, "Authentication", &["SSH", "RDP", "SMB", "FTP"], WINDOWS_HOSTS, INTERNAL,
      "{src} ({src_ip}) made 20 {protocol} login attempts to {dst} ({dst_ip}) within one minute."),
    e(49, "Password Guessing Attempt Detected", AN, CRIT, "Authentication", &["SSH", "RDP", "SMB"], WINDOWS_HOSTS, INTERNAL,
      "{src} ({src_ip}) tried 100 passwords against {dst} ({dst_ip}) over {protocol} within one minute."),
    e(50, "Excessive SMB login attempts", AN, CRIT, "Authentication", &["SMB"], WINDOWS_HOSTS, WINDOWS_HOSTS,
      "{src} ({src_ip}) made 10 SMB login attempts to {dst} ({dst_ip}) within 10 minutes."),
    e(51, "Excessive Number of Sessions", AN, CRIT, "Abnormal communication behavior", &["Modbus/TCP", "S7", "EtherNet/IP", "TCP"], MASTERS, FIELD,
      "{src} ({src_ip}) opened 50 {protocol} sessions to {dst} ({dst_ip}) within one minute."),
    e(52, "Abnormal Exception Pattern in Slave", AN, MIN, "Abnormal communication behavior", &["Modbus/TCP"], MASTERS, FIELD,
      "Slave {dst} ({dst_ip}) answered {src} ({src_ip}) with 20 Modbus exceptions within one hour."),
    e(53, "Abnormal Periodic Behavior In Communication Channel", AN, MIN, "Abnormal communication behavior", &["Modbus/TCP", "S7", "EtherNet/IP", "DNP3"], MASTERS, FIELD,
      "The {protocol} polling cycle between {src} ({src_ip}) and {dst} ({dst_ip}) departed from its learned period."),
    e(54, "Abnormal Traffic Bandwidth", AN, WARN, "Bandwidth anomalies", &["TCP", "SMB", "FTP", "OPC UA"], INTERNAL, INTERNAL,
      "{protocol} traffic from {src} ({src_ip}) to {dst} ({dst_ip}) exceeded the learned bandwidth baseline."),
    e(55, "Excessive Restart Rate of an Outstation", AN, MAJ, "Restart/stop commands", &["DNP3"], SCADA_MASTERS, OUTSTATIONS,
      "Outstation {dst} ({dst_ip}) restarted 10 times within one hour; the last restart followed a request from {src} ({src_ip})."),
    e(56, "Unexpected message length", AN, CRIT, "Abnormal communication behavior", OT_PROTOCOLS, MASTERS, FIELD,
      "{src} ({src_ip}) sent {dst} ({dst_ip}) a {protocol} message with a text length of 32768 bytes, far above what this channel carries."),
    e(57, "Unexpected Traffic for Standard Port", AN, MAJ, "Abnormal communication behavior", &["TCP"], INTERNAL, PLCS,
      "{src} ({src_ip}) sent traffic to {dst} ({dst_ip}) on port {port} that is not Modbus, the protocol registered for that port.").with_port(502),
    // Protocol Violation
    e(58, "Illegal MODBUS Operation (Function Code Zero)", PR, MAJ, "Illegal commands", &["Modbus/TCP"], MASTERS, FIELD,
      "{src} ({src_ip}) sent a Modbus request with function code 0 to {dst} ({dst_ip})."),
    e(59, "Illegal MODBUS Operation (Exception Raised by Master)", PR, MAJ, "Illegal commands", &["Modbus/TCP"], MASTERS, FIELD,
      "Master {src_ip} sent {dst} ({dst_ip}) a request with function code #129, an exception code that only a slave may send."),
    e(60, "Modbus Exception", PR, MAJ, "Illegal commands", &["Modbus/TCP"], MASTERS, FIELD,
      "{dst} ({dst_ip}) answered {src} ({src_ip}) with Modbus exception 02 (Illegal Data Address) for register {n}."),
    e(61, "Illegal DNP3 Operation", PR, MAJ, "Illegal commands", &["DNP3"], SCADA_MASTERS, OUTSTATIONS,
      "{src} ({src_ip}) sent a malformed DNP3 application fragment to outstation {dst} ({dst_ip})."),
    e(62, "Usage of Reserved Status Flags (IIN)", PR, WARN, "Illegal commands", &["DNP3"], SCADA_MASTERS, OUTSTATIONS,
      "Outstation {dst} ({dst_ip}) answered {src} ({src_ip}) with reserved internal indication bits (IIN2.6, IIN2.7) set."),
    e(63, "Master Requested an Application Layer Confirmation", PR, WARN, "Illegal commands", &["DNP3"], SCADA_MASTERS, OUTSTATIONS,
      "DNP3 master {src} ({src_ip}) requested an application layer confirmation from {dst} ({dst_ip}), which a master should not do."),
    e(64, "Initiation of an Obsolete Function Code (Save Config)", PR, MIN, "Illegal commands", &["DNP3"], SCADA_MASTERS, OUTSTATIONS,
      "{src} ({src_ip}) sent the obsolete DNP3 function code 19 (Save Configuration) to {dst} ({dst_ip})."),
    e(65, "Slave Device Received Illegal ASDU Type", PR, MAJ, "Illegal commands", &["IEC 60870-5-104"], SCADA_MASTERS, RTUS,
      "{dst} ({dst_ip}) received ASDU type 127, which IEC 60870-5-104 does not define, from {src} ({src_ip})."),
    e(66, "Slave Device Received Illegal Function Code", PR, MAJ, "Illegal commands", &["Modbus/TCP"], MASTERS, FIELD,
      "Slave {dst} ({dst_ip}) received function code 90 from {src} ({src_ip}), which it does not support."),
    e(67, "Illegal BACNet message", PR, MAJ, "Illegal commands", &["BACnet"], &[R::Hmi, R::EngineeringWorkstation, R::RogueLaptop], BMS,
      "{src} ({src_ip}) sent {dst} ({dst_ip}) a BACnet APDU that violates the standard (reserved PDU type)."),
    e(68, "Illegal Connection Attempt on Port 0", PR, MIN, "Illegal commands", TCP_UDP, INTERNAL, INTERNAL,
      "{src} ({src_ip}) tried to connect to {protocol} port {port} on {dst} ({dst_ip}).").with_port(0),
    e(69, "Excessive Malformed Packets In a Single Session", PR, MAJ, "Illegal commands", OT_PROTOCOLS, MASTERS, FIELD,
      "The {protocol} session between {src} ({src_ip}) and {dst} ({dst_ip}) carried 2 malformed packets within 10 minutes."),
    e(70, "Firmware Update", PR, WARN, "Firmware change", FIRMWARE_PROTOCOLS, PROGRAMMERS, FIELD,
      "{src} ({src_ip}) started a firmware update of {dst} ({dst_ip}) over {protocol}."),
    // Malware
    e(71, "Suspicion of Malicious Activity (Stuxnet)", MW, CRIT, "Suspicion of malware", &["S7"], &[R::EngineeringWorkstation, R::Hmi], PLCS,
      "Traffic from {src} ({src_ip}) to {dst} ({dst_ip}) matches Stuxnet: blocks OB35 and DB890 were written over S7 (port {port})."),
    e(72, "Suspicion of Malicious Activity (BlackEnergy)", MW, CRIT, "Suspicion of malware", &["HTTP", "TLS"], &[R::Hmi, R::EngineeringWorkstation, R::Historian, R::JumpHost], MALICIOUS_HOSTS,
      "{src} ({src_ip}) beaconed to {dst} over {protocol} in a pattern that matches the BlackEnergy command-and-control traffic."),
    e(73, "Suspicion of Malicious Activity (Havex)", MW, CRIT, "Suspicion of malware", &["DCE RPC"], &[R::Hmi, R::EngineeringWorkstation, R::RogueLaptop], OPC_SERVERS,
      "{src} ({src_ip}) enumerated OPC servers on {dst} ({dst_ip}) over DCE RPC (port {port}) the way the Havex OPC scanner module does."),
    e(74, "Suspicion of Malicious Activity (WannaCry)", MW, MAJ, "Suspicion of malware", &["SMB"], WINDOWS_HOSTS, WINDOWS_HOSTS,
      "{src} ({src_ip}) sent {dst} ({dst_ip}) SMB requests that match the WannaCry EternalBlue propagation."),
    e(75, "Suspicion of NotPetya Malware - Illegal SMB Parameters Detected", MW, CRIT, "Suspicion of malware", &["SMB"], WINDOWS_HOSTS, WINDOWS_HOSTS,
      "{src} ({src_ip}) sent {dst} ({dst_ip}) SMB transactions with illegal parameters, as NotPetya does when it spreads."),
    e(76, "Invalid SMB Message (DoublePulsar Backdoor Implant)", MW, CRIT, "Suspicion of malware", &["SMB"], WINDOWS_HOSTS, WINDOWS_HOSTS,
      "{src} ({src_ip}) sent {dst} ({dst_ip}) an invalid SMB Trans2 message that matches the DoublePulsar implant."),
    e(77, "Suspicion of Conficker Malware", MW, MAJ, "Suspicion of malware", &["SMB"], WINDOWS_HOSTS, WINDOWS_HOSTS,
      "{src} ({src_ip}) probed {dst} ({dst_ip}) over SMB (port {port}) the way Conficker spreads."),
    e(78, "Connection Attempt to Known Malicious IP", MW, MAJ, "Suspicion of malicious activity", &["TLS", "HTTP"], INTERNET_USERS, MALICIOUS_HOSTS,
      "{src} ({src_ip}) tried to reach {dst_ip} on port {port}, an address on a threat-intelligence block list."),
    e(79, "Malicious Domain Name Request", MW, MAJ, "Suspicion of malicious activity", &["DNS"], INTERNET_USERS, DNS_RESOLVERS,
      "{src} ({src_ip}) asked {dst} ({dst_ip}) to resolve update-{n}.malicious.example, a domain on a threat-intelligence block list."),
    e(80, "Suspicion of Denial Of Service Attack", MW, CRIT, "Suspicion of malicious activity", &["TCP"], SCANNERS, INTERNAL,
      "{src} ({src_ip}) made 3000 TCP connection attempts to {dst} ({dst_ip}) within one minute."),
    e(81, "Suspicion of Remote Code Execution with PsExec", MW, MAJ, "Suspicion of malicious activity", &["SMB"], WINDOWS_HOSTS, WINDOWS_HOSTS,
      "{src} ({src_ip}) installed and started the PSEXESVC service on {dst} ({dst_ip}) over SMB."),
    e(82, "Malware Test File Detected - EICAR AV Success", MW, MAJ, "Suspicion of malicious activity", &["HTTP", "SMB", "FTP"], SERVERS, WINDOWS_HOSTS,
      "The EICAR antivirus test file was sent from {src} ({src_ip}) to {dst} ({dst_ip}) over {protocol}."),
    // Operational
    e(84, "Controller Stop", OP, WARN, "Restart/stop commands", PLC_PROTOCOLS, PROGRAMMERS, PLCS,
      "{src} ({src_ip}) sent a stop command to controller {dst} ({dst_ip}) over {protocol}."),
    e(85, "An S7 Stop PLC Command was Sent", OP, WARN, "Restart/stop commands", &["S7"], PROGRAMMERS, PLCS,
      "{src} ({src_ip}) sent an S7 PLC Stop command to {dst} ({dst_ip}); the PLC halts until a Start command arrives."),
    e(86, "GE SRTP Stop PLC Command was Sent", OP, WARN, "Restart/stop commands", &["GE SRTP"], PROGRAMMERS, PLCS,
      "{src} ({src_ip}) sent an SRTP stop command to {dst} ({dst_ip}) on port {port}."),
    e(87, "Controller Reset", OP, WARN, "Restart/stop commands", PLC_PROTOCOLS, PROGRAMMERS, PLCS,
      "{src} ({src_ip}) reset controller {dst} ({dst_ip}) over {protocol}."),
    e(88, "Profinet Device Factory Reset", OP, WARN, "Restart/stop commands", &["Profinet DCP"], PROGRAMMERS, PLCS,
      "{src} sent a Profinet DCP factory-reset request to {dst}."),
    e(89, "Outstation Restarted", OP, WARN, "Restart/stop commands", &["DNP3"], SCADA_MASTERS, RTUS,
      "Outstation {dst} ({dst_ip}) performed a cold restart at the request of {src} ({src_ip})."),
    e(90, "Device is Suspected to be Disconnected (Unresponsive)", OP, MAJ, "Unresponsive", &["Modbus/TCP", "EtherNet/IP", "S7", "DNP3"], MASTERS, FIELD,
      "Device {dst_ip} ({dst}) is suspected to be disconnected (unresponsive): {src} got no answer to 8 attempts within 5 minutes."),
    e(91, "Suspicion of Unresponsive MODBUS Device", OP, MIN, "Unresponsive", &["Modbus/TCP"], MASTERS, FIELD,
      "Outstation device {dst_ip} (Protocol Address {n}) seems to be unresponsive to MODBUS requests from {src}."),
    e(92, "EtherNet/IP CIP Service Request Failed", OP, MAJ, "Command failures", &["EtherNet/IP"], MASTERS, PLCS,
      "A CIP service request from {src} ({src_ip}) to {dst} ({dst_ip}) failed with general status 0x08 (Service not supported)."),
    e(93, "OPC UA Service Request Failed", OP, MAJ, "Command failures", &["OPC UA"], OPC_CLIENTS, OPC_UA_SERVERS,
      "An OPC UA Read request from {src} ({src_ip}) to {dst} ({dst_ip}) failed with status BadNodeIdUnknown."),
    e(94, "BACNet Operation Failed", OP, MAJ, "Command failures", &["BACnet"], &[R::Hmi, R::EngineeringWorkstation], BMS,
      "A BACnet WriteProperty from {src} ({src_ip}) to {dst} ({dst_ip}) was rejected (error class property, write-access-denied)."),
    e(95, "Master-Slave Authentication Error", OP, MIN, "Authentication", &["DNP3"], SCADA_MASTERS, OUTSTATIONS,
      "DNP3 Secure Authentication between master {src} ({src_ip}) and outstation {dst} ({dst_ip}) failed."),
    e(96, "Outstation's Configuration Changed", OP, MAJ, "Configuration changes", &["DNP3"], &[R::EngineeringWorkstation, R::ScadaServer, R::RogueLaptop], OUTSTATIONS,
      "The configuration of outstation {dst} ({dst_ip}) changed after a file transfer from {src} ({src_ip})."),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plant::well_known_port;
    use icsfwd_core::alert::{MAX_GROUP, MAX_PROTOCOL, MAX_TITLE};

    /// Rows deliberately left out (see the module docs).
    const LEFT_OUT: [u16; 8] = [14, 21, 34, 40, 83, 97, 98, 99];

    #[test]
    fn the_catalogue_has_at_least_sixty_distinct_rows_of_the_reference() {
        assert!(CATALOGUE.len() >= 60, "{}", CATALOGUE.len());
        for (i, a) in CATALOGUE.iter().enumerate() {
            assert!((1..=99).contains(&a.row), "{}", a.title);
            assert!(!LEFT_OUT.contains(&a.row), "{}", a.title);
            for b in &CATALOGUE[i + 1..] {
                assert_ne!(a.row, b.row);
                assert_ne!(a.title, b.title);
            }
        }
        assert_eq!(CATALOGUE.len() + LEFT_OUT.len(), 99);
    }

    #[test]
    fn every_engine_has_at_least_five_kinds_of_alert() {
        for engine in Engine::ALL {
            let n = CATALOGUE.iter().filter(|e| e.engine == engine).count();
            assert!(n >= 5, "{engine}: {n}");
        }
    }

    #[test]
    fn rows_match_the_reference_table() {
        // (row, title, engine, severity, group), as in Microsoft's alert reference (module docs).
        let table = [
            (
                1,
                "Unauthorized PLC Programming",
                Engine::PolicyViolation,
                Severity::Critical,
                "Programming",
            ),
            (
                11,
                "Internet Access Detected",
                Engine::PolicyViolation,
                Severity::Major,
                "Internet access",
            ),
            (
                23,
                "Unauthorized Access to Siemens S7 Data Block",
                Engine::PolicyViolation,
                Severity::Warning,
                "Unauthorized communication behavior",
            ),
            (
                41,
                "Address Scan Detected",
                Engine::Anomaly,
                Severity::Critical,
                "Scan",
            ),
            (
                52,
                "Abnormal Exception Pattern in Slave",
                Engine::Anomaly,
                Severity::Minor,
                "Abnormal communication behavior",
            ),
            (
                68,
                "Illegal Connection Attempt on Port 0",
                Engine::ProtocolViolation,
                Severity::Minor,
                "Illegal commands",
            ),
            (
                70,
                "Firmware Update",
                Engine::ProtocolViolation,
                Severity::Warning,
                "Firmware change",
            ),
            (
                78,
                "Connection Attempt to Known Malicious IP",
                Engine::Malware,
                Severity::Major,
                "Suspicion of malicious activity",
            ),
            (
                89,
                "Outstation Restarted",
                Engine::Operational,
                Severity::Warning,
                "Restart/stop commands",
            ),
            (
                90,
                "Device is Suspected to be Disconnected (Unresponsive)",
                Engine::Operational,
                Severity::Major,
                "Unresponsive",
            ),
        ];
        for (row, title, engine, severity, group) in table {
            let entry = CATALOGUE.iter().find(|e| e.row == row);
            let got = entry.map(|e| (e.title, e.engine, e.severity, e.group));
            assert_eq!(got, Some((title, engine, severity, group)), "row {row}");
        }
    }

    #[test]
    fn every_entry_fits_the_core_capacities_and_names_its_roles() {
        for e in CATALOGUE {
            assert!(e.title.len() <= MAX_TITLE, "{}", e.title);
            assert!(e.group.len() <= MAX_GROUP, "{}", e.group);
            assert!(!e.protocols.is_empty(), "{}", e.title);
            assert!(
                e.protocols.iter().all(|p| p.len() <= MAX_PROTOCOL),
                "{}",
                e.title
            );
            assert!(
                !e.sources.is_empty() && !e.destinations.is_empty(),
                "{}",
                e.title
            );
            assert!(
                e.message.contains("{dst") && e.message.contains("{src"),
                "{}",
                e.title
            );
        }
    }

    #[test]
    fn a_port_placeholder_only_appears_where_every_protocol_has_a_port() {
        for e in CATALOGUE.iter().filter(|e| e.message.contains("{port}")) {
            for p in e.protocols {
                assert!(
                    e.port.is_some() || well_known_port(p).is_some(),
                    "{} / {p}",
                    e.title
                );
            }
        }
    }

    #[test]
    fn messages_use_only_known_placeholders() {
        const KNOWN: [&str; 8] = [
            "{src}",
            "{dst}",
            "{src_ip}",
            "{dst_ip}",
            "{dst_net16}",
            "{protocol}",
            "{port}",
            "{n}",
        ];
        for e in CATALOGUE {
            let mut rest = e.message;
            while let Some(start) = rest.find('{') {
                let end = rest[start..].find('}').map(|i| start + i + 1);
                let placeholder = end.map(|end| &rest[start..end]);
                assert!(
                    placeholder.is_some_and(|p| KNOWN.contains(&p)),
                    "{}: {rest}",
                    e.title
                );
                rest = &rest[end.unwrap_or(rest.len())..];
            }
        }
    }
}
