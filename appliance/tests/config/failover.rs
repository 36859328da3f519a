//! The host lists of failover (`hosts` of `splunk` and `syslog`, `urls` of `hec`): each
//! mistake refused with its key, line, column and fix; good lists accepted with their ports.

use crate::common::{BASE, parse};
use icsfwd::testing::destination::DestinationKind;
use icsfwd::testing::destination::failover::Endpoint;

const SPLUNK: &str = "[[destination]]\nname = \"s\"\nkind = \"splunk\"\nusername = \"u\"\n\
                      password_env = \"PASSWORD\"\n";
const SYSLOG: &str = "[[destination]]\nname = \"s\"\nkind = \"syslog\"\n";
const HEC: &str = "[[destination]]\nname = \"s\"\nkind = \"hec\"\ntoken_env = \"TOKEN\"\n";

/// `(kind's keys, the list's line, key, line, column, message part, fix part)`: each must be
/// the one and only problem reported. What is appended to BASE starts on line 14; the list
/// comes after the kind's keys.
const BAD: &[(&str, &str, &str, usize, usize, &str, &str)] = &[
    (
        SPLUNK,
        "hosts = []\n",
        "destination[1].hosts",
        19,
        9,
        "has 0 hosts",
        "list at least one",
    ),
    (
        SYSLOG,
        "hosts = [\"a\", \"b:515\", \"a:514\"]\n",
        "destination[1].hosts[2]",
        17,
        24,
        "names a:514 again (as destination[1].hosts[0] does)",
        "list each host once",
    ),
    (
        SYSLOG,
        "hosts = [\"a\", \"[::1]\", \"::1\"]\n",
        "destination[1].hosts[2]",
        17,
        24,
        "names [::1]:514 again",
        "list each host once",
    ),
    (
        SYSLOG,
        "hosts = [\"siem\", \"SIEM:514\"]\n",
        "destination[1].hosts[1]",
        17,
        18,
        "names SIEM:514 again (as destination[1].hosts[0] does)",
        "list each host once",
    ),
    (
        SPLUNK,
        "host = \"a\"\nhosts = [\"b\"]\n",
        "destination[1].host",
        19,
        8,
        "is set beside hosts",
        "keep one of them",
    ),
    (
        SYSLOG,
        "hosts = [\"a\", \"https://b:6514\"]\n",
        "destination[1].hosts[1]",
        17,
        15,
        "\"https://b:6514\" is not host or host:port",
        "such as \"siem.example:6514\"",
    ),
    (
        SYSLOG,
        "hosts = [\"a:0\"]\n",
        "destination[1].hosts[0]",
        17,
        10,
        "has a port outside 1-65535",
        "with :port",
    ),
    (
        HEC,
        "urls = [\"https://a:8088\", \"https://b:8088\", \"https://a:8088/\"]\n",
        "destination[1].urls[2]",
        18,
        45,
        "names https://a:8088 again (as destination[1].urls[0] does)",
        "list each host once",
    ),
];

#[test]
fn each_mistake_in_a_host_list_is_one_problem_at_its_place_with_a_fix() {
    for (kind, list, key, line, column, message, fix) in BAD {
        let text = format!("{BASE}{kind}{list}");
        let problems = parse(&text).expect_err(list);
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.iter().count(), 1, "{list}: {all:#?}");
        let problem = problems.iter().next().unwrap();
        assert_eq!(
            (problem.key.as_str(), problem.line, problem.column),
            (*key, *line, *column),
            "{list}: {problem}"
        );
        assert!(problem.message.contains(message), "{list}: {problem}");
        assert!(problem.fix.contains(fix), "{list}: {problem}");
    }
}

#[test]
fn seventeen_hosts_are_too_many() {
    let hosts: Vec<String> = (0..17).map(|i| format!("\"h{i}\"")).collect();
    let text = format!("{BASE}{SYSLOG}hosts = [{}]\n", hosts.join(", "));
    let problems = parse(&text).unwrap_err();
    let problem = problems.iter().next().unwrap();
    assert_eq!(problem.key, "destination[1].hosts");
    assert_eq!(problem.message, "has 17 hosts");
    assert!(problem.fix.contains("at most 16"), "{problem}");
    let sixteen = format!(
        "{BASE}{SYSLOG}hosts = [{}]\n",
        hosts.get(..16).unwrap().join(", ")
    );
    assert!(parse(&sixteen).is_ok());
}

#[test]
fn hosts_take_the_port_key_or_the_kind_s_default_unless_they_name_one() {
    let text = format!(
        "{BASE}{SYSLOG}transport = \"tls\"\nhosts = [\"a\", \"b:7000\", \"[fe80::1]\"]\n\
         [[destination]]\nname = \"t\"\nkind = \"splunk\"\nusername = \"u\"\n\
         password_env = \"PASSWORD\"\nport = 9089\nhosts = [\"c\", \"d:8089\"]\n\
         [[destination]]\nname = \"u\"\nkind = \"syslog\"\nhost = \"e\"\n"
    );
    let config = parse(&text).unwrap();
    let DestinationKind::Syslog(syslog) = &config.destinations[1].kind else {
        panic!("syslog expected");
    };
    assert_eq!(
        syslog.hosts,
        [
            Endpoint::new("a", 6514),
            Endpoint::new("b", 7000),
            Endpoint::new("fe80::1", 6514)
        ]
    );
    let DestinationKind::Splunk(splunk) = &config.destinations[2].kind else {
        panic!("splunk expected");
    };
    assert_eq!(
        splunk.hosts,
        [Endpoint::new("c", 9089), Endpoint::new("d", 8089)]
    );
    let DestinationKind::Syslog(single) = &config.destinations[3].kind else {
        panic!("syslog expected");
    };
    assert_eq!(single.hosts, [Endpoint::new("e", 514)], "host still works");
}
