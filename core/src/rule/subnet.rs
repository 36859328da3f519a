//! IPv4 and IPv6 subnets in CIDR notation, for exclusions by address.
//!
//! A [`Subnet`] is a network address and a prefix length, parsed from `10.0.0.0/8`,
//! `fe80::/10` or a bare address (a host: `/32` or `/128`). Host bits after the prefix are
//! cleared on construction, so `10.20.1.7/24` is the subnet `10.20.1.0/24` — the operator
//! named a host and meant its network.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) denote IPv4 hosts (that is how a dual-stack
//! socket reports an IPv4 peer), so they are treated as the IPv4 address they carry: the
//! subnet `10.0.0.0/8` contains `::ffff:10.1.2.3`, and a subnet written inside
//! `::ffff:0:0/96` (`::ffff:10.0.0.0/104`) is stored as the IPv4 subnet it denotes
//! (`10.0.0.0/8`). Apart from that, an IPv4 subnet never contains an IPv6 address and an IPv6
//! subnet never contains an IPv4 address.
//!
//! Guarantees: parsing and matching are total; nothing here panics or allocates.
//!
//! ```
//! use core::net::IpAddr;
//! use icsfwd_core::rule::Subnet;
//!
//! let plant: Subnet = "10.20.0.0/16".parse().unwrap();
//! assert!(plant.contains("10.20.255.255".parse::<IpAddr>().unwrap()));
//! assert!(!plant.contains("10.21.0.0".parse::<IpAddr>().unwrap()));
//! assert!(plant.contains("::ffff:10.20.3.4".parse::<IpAddr>().unwrap()));
//! let link_local: Subnet = "fe80::/10".parse().unwrap();
//! assert!(link_local.contains("fe80::1".parse::<IpAddr>().unwrap()));
//! assert!("10.0.0.0/33".parse::<Subnet>().is_err());
//! ```

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

/// Why a text is not a subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SubnetError {
    /// The part before `/` is not an IPv4 or IPv6 address.
    BadAddress,
    /// The part after `/` is not a decimal number (empty, signed, or not digits).
    BadPrefix,
    /// The prefix length is larger than the address has bits.
    PrefixTooLong {
        /// The prefix length given (saturated at 255).
        prefix: u8,
        /// The address's bit count: 32 or 128.
        max: u8,
    },
}

impl fmt::Display for SubnetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubnetError::BadAddress => f.write_str("not an IPv4 or IPv6 address"),
            SubnetError::BadPrefix => f.write_str("the prefix length after '/' is not a number"),
            SubnetError::PrefixTooLong { prefix, max } => {
                write!(
                    f,
                    "prefix length /{prefix} is longer than the address's {max} bits"
                )
            }
        }
    }
}

impl core::error::Error for SubnetError {}

/// An IPv4 or IPv6 network: an address whose bits after `prefix` are zero, and the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Subnet {
    #[cfg_attr(feature = "defmt", defmt(Debug2Format))]
    network: IpAddr,
    prefix: u8,
}

impl Subnet {
    /// The subnet of `addr` with `prefix` leading bits; host bits are cleared, and an
    /// IPv4-mapped IPv6 subnet becomes the IPv4 subnet it denotes.
    pub const fn new(addr: IpAddr, prefix: u8) -> Result<Subnet, SubnetError> {
        match addr {
            IpAddr::V4(v4) => {
                if prefix > 32 {
                    return Err(SubnetError::PrefixTooLong { prefix, max: 32 });
                }
                let bits = v4.to_bits() & v4_mask(prefix);
                Ok(Subnet {
                    network: IpAddr::V4(Ipv4Addr::from_bits(bits)),
                    prefix,
                })
            }
            IpAddr::V6(v6) => {
                if prefix > 128 {
                    return Err(SubnetError::PrefixTooLong { prefix, max: 128 });
                }
                if prefix >= 96
                    && let Some(v4) = v6.to_ipv4_mapped()
                {
                    return Subnet::new(IpAddr::V4(v4), prefix - 96);
                }
                let bits = v6.to_bits() & v6_mask(prefix);
                Ok(Subnet {
                    network: IpAddr::V6(Ipv6Addr::from_bits(bits)),
                    prefix,
                })
            }
        }
    }

    /// The subnet holding exactly `addr` (`/32` or `/128`).
    pub const fn host(addr: IpAddr) -> Subnet {
        let prefix = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        match Subnet::new(addr, prefix) {
            Ok(subnet) => subnet,
            // Unreachable: the prefix is the address's own width.
            Err(_) => Subnet {
                network: addr,
                prefix,
            },
        }
    }

    /// Parses `ADDRESS/PREFIX` or a bare `ADDRESS`, ignoring surrounding blanks.
    pub fn parse(text: &str) -> Result<Subnet, SubnetError> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr = IpAddr::from_str(addr).map_err(|_| SubnetError::BadAddress)?;
        match prefix {
            None => Ok(Subnet::host(addr)),
            Some(prefix) => Subnet::new(addr, parse_prefix(prefix)?),
        }
    }

    /// The network address (host bits zero).
    pub const fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length in bits.
    pub const fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `addr` is in this subnet (an IPv4-mapped IPv6 address counts as IPv4).
    pub const fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, canonical(addr)) {
            (IpAddr::V4(net), IpAddr::V4(a)) => a.to_bits() & v4_mask(self.prefix) == net.to_bits(),
            (IpAddr::V6(net), IpAddr::V6(a)) => a.to_bits() & v6_mask(self.prefix) == net.to_bits(),
            _ => false,
        }
    }
}

/// `addr`, with an IPv4-mapped IPv6 address replaced by the IPv4 address it carries.
pub(crate) const fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => addr,
        },
        IpAddr::V4(_) => addr,
    }
}

const fn v4_mask(prefix: u8) -> u32 {
    match u32::MAX.checked_shl(32u32.saturating_sub(prefix as u32)) {
        Some(mask) => mask,
        None => 0,
    }
}

const fn v6_mask(prefix: u8) -> u128 {
    match u128::MAX.checked_shl(128u32.saturating_sub(prefix as u32)) {
        Some(mask) => mask,
        None => 0,
    }
}

fn parse_prefix(text: &str) -> Result<u8, SubnetError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SubnetError::BadPrefix);
    }
    // Only digits: the sole failure left is overflow, which is a too-long prefix either way.
    Ok(text.parse::<u8>().unwrap_or(u8::MAX))
}

impl FromStr for Subnet {
    type Err = SubnetError;

    fn from_str(text: &str) -> Result<Subnet, SubnetError> {
        Subnet::parse(text)
    }
}

impl From<IpAddr> for Subnet {
    fn from(addr: IpAddr) -> Subnet {
        Subnet::host(addr)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}
