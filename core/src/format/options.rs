//! The options of the formats: [`Options`], one value that configures any
//! [`Kind`](super::Kind), and [`DeviceLabels`], the vendor and product a CEF or LEEF header
//! names.

use super::{cef, hec, leef, text};

/// Capacity in bytes of [`DeviceLabels::vendor`].
pub const MAX_VENDOR: usize = 64;
/// Capacity in bytes of [`DeviceLabels::product`].
pub const MAX_PRODUCT: usize = 64;

/// The vendor and product a CEF or LEEF header names (`cef::Options`, `leef::Options`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeviceLabels {
    /// The vendor header field (CEF `Device Vendor`, LEEF `Vendor`). Default `icsfwd`.
    pub vendor: heapless::String<MAX_VENDOR>,
    /// The product header field (CEF `Device Product`, LEEF `Product`). Default `OT Sensor`.
    pub product: heapless::String<MAX_PRODUCT>,
}

impl Default for DeviceLabels {
    fn default() -> Self {
        let mut labels = DeviceLabels {
            vendor: heapless::String::new(),
            product: heapless::String::new(),
        };
        crate::alert::fill(&mut labels.vendor, "icsfwd");
        crate::alert::fill(&mut labels.product, "OT Sensor");
        labels
    }
}

/// Options for every payload format, so that one value configures any [`Kind`](super::Kind).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Options {
    /// Options of [`text`].
    pub text: text::Options,
    /// Options of [`hec`].
    pub hec: hec::Options,
    /// Options of [`cef`].
    pub cef: cef::Options,
    /// Options of [`leef`].
    pub leef: leef::Options,
}
