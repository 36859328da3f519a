//! Escaping shared by every format: [`escape`] writes a value under a format's [`Rule`].
//!
//! Every format copies most of a value as is and escapes a few characters. The characters any
//! format treats are the C0 controls and DEL, up to four ASCII punctuation bytes of its own
//! (its [`AsciiSet`]), the C1 controls U+0080–U+009F and the separators U+2028/U+2029 (every
//! format treats these, as they break lines or hide text in some reader). So [`escape`] scans
//! bytes, not `char`s, eight at a time: a word with no control, DEL, punctuation byte of the
//! rule or non-ASCII byte is skipped with a few integer operations; in a word that may hold
//! one, a byte can start a treated character only if it is ASCII and in the set, or the lead
//! byte `C2` (U+0080–U+00BF) or `E2` (U+2000–U+2FFF), which `special_at` then decodes. Each
//! run of clean bytes goes out in one write.

use embedded_io::Write;

use super::{Error, Out};
use crate::stack_text::{Case, MAX_U64_TEXT, StackText};

/// The ASCII bytes one escaping rule treats: the C0 controls, DEL, and up to four more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AsciiSet {
    /// The rule's own bytes; unused slots repeat one of them (or hold NUL, a control).
    extra: [u8; 4],
}

/// Eight copies of `byte`, one per byte of a `u64`.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// The high bit of every byte of `word` that is zero, and possibly of bytes above one (the
/// borrow), so it is non-zero exactly when some byte is zero.
const fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(splat(0x01)) & !word & splat(0x80)
}

impl AsciiSet {
    /// The C0 controls U+0000–U+001F, DEL, and the ASCII bytes of `bytes`, of which at most
    /// four are kept (the last four; no rule needs more, and each rule's unit test compares
    /// the set with its documented one).
    pub(crate) const fn controls_and(mut bytes: &[u8]) -> AsciiSet {
        let mut packed = 0u32;
        let mut first = 0;
        while let [byte, rest @ ..] = bytes {
            if byte.is_ascii() {
                packed = packed << 8 | *byte as u32;
                first = *byte;
            }
            bytes = rest;
        }
        // Unused slots repeat a byte of the set, so that the word test of a repeated byte is
        // the same expression, which the compiler evaluates once.
        let mut extra = packed.to_le_bytes();
        let mut slots: &mut [u8] = &mut extra;
        while let [slot, rest @ ..] = slots {
            if *slot == 0 {
                *slot = first;
            }
            slots = rest;
        }
        AsciiSet { extra }
    }

    /// Whether `byte` is in the set.
    #[inline]
    pub(crate) const fn contains(self, byte: u8) -> bool {
        let [a, b, c, d] = self.extra;
        byte < 0x20 || byte == 0x7f || byte == a || byte == b || byte == c || byte == d
    }

    #[cfg(not(target_os = "none"))]
    /// Whether `bytes` certainly holds no treated character, for a value of at most
    /// [`SHORT_VALUE`] bytes (false for a longer one): one or two word tests, so a short
    /// clean value can be copied with the text around it instead of through [`escape`].
    #[inline]
    pub(crate) fn short_is_clean(self, bytes: &[u8]) -> bool {
        if let (Some(first), Some(last)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
            // 8 to 16 bytes: two words that overlap or meet cover every byte.
            return bytes.len() <= SHORT_VALUE
                && !self.may_hold_special(u64::from_ne_bytes(*first))
                && !self.may_hold_special(u64::from_ne_bytes(*last));
        }
        // Under 8 bytes: padded with spaces, which no rule treats.
        let mut word = [b' '; 8];
        for (slot, &byte) in word.iter_mut().zip(bytes) {
            *slot = byte;
        }
        !self.may_hold_special(u64::from_ne_bytes(word))
    }

    /// Whether `byte` may start a treated character: in the set, or a lead byte `C2`/`E2`.
    #[inline]
    const fn may_start_special(self, byte: u8) -> bool {
        self.contains(byte) || byte == 0xC2 || byte == 0xE2
    }

    /// Whether `word` (eight bytes) may hold a treated character's first byte: false only
    /// when none of its bytes is a control, DEL, non-ASCII, or one of the rule's bytes.
    /// (It may say true for a clean word; the caller then checks byte by byte.)
    #[inline]
    const fn may_hold_special(self, word: u64) -> bool {
        // A byte below 0x20: subtracting 0x20 borrows into its high bit while the byte's own
        // high bit is clear (exact for the any-test, as for `has_zero_byte`).
        let below_space = word.wrapping_sub(splat(0x20)) & !word;
        // A byte of 0x7F or more: it has its high bit, or adding 1 sets it. A carry out of a
        // 0xFF byte can only flag its neighbour falsely, and the 0xFF byte itself is flagged.
        let del_or_high = word | word.wrapping_add(splat(0x01));
        let [a, b, c, d] = self.extra;
        // One OR of all tests and one branch: the words of a value are nearly all clean.
        let hits = ((below_space | del_or_high) & splat(0x80))
            | zero_bytes(word ^ splat(a))
            | zero_bytes(word ^ splat(b))
            | zero_bytes(word ^ splat(c))
            | zero_bytes(word ^ splat(d));
        hits != 0
    }
}

/// The longest value [`AsciiSet::short_is_clean`] judges.
#[cfg(not(target_os = "none"))]
pub(crate) const SHORT_VALUE: usize = 16;

/// One escape sequence: at most 8 bytes (text's `\u{HHHH}` is the longest).
pub(crate) type Escaped = StackText<8>;

impl Escaped {
    /// A fixed escape.
    pub(crate) fn of(s: &str) -> Escaped {
        let mut escaped = Escaped::new();
        escaped.push_str(s);
        escaped
    }

    /// `prefix`, the low `digits` hex digits of `code`, then `suffix`.
    pub(crate) fn hex(prefix: &str, code: u32, digits: u32, case: Case, suffix: &str) -> Escaped {
        let mut escaped = Escaped::of(prefix);
        escaped.push_hex(code, digits, case);
        escaped.push_str(suffix);
        escaped
    }
}

/// One format's (or one place's) escaping rule for [`escape`]: which ASCII bytes it treats
/// (the C1 controls and U+2028/U+2029 are always treated) and what a treated character
/// becomes.
#[derive(Clone, Copy)]
pub(crate) struct Rule {
    /// The ASCII bytes this rule treats.
    pub(crate) ascii: AsciiSet,
    /// What a treated character is written as.
    pub(crate) escape: fn(char) -> Escaped,
}

impl Rule {
    /// Whether [`escape`] treats `c` under this rule: the definition the scanner implements,
    /// char by char, for tests.
    #[cfg(test)]
    pub(crate) fn is_special(&self, c: char) -> bool {
        match u8::try_from(c) {
            Ok(byte) if byte.is_ascii() => self.ascii.contains(byte),
            _ => matches!(c, '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}'),
        }
    }
}

/// The treated character at the start of `bytes`, with its UTF-8 length, if there is one.
fn special_at(bytes: &[u8], ascii: AsciiSet) -> Option<(char, usize)> {
    match bytes {
        [byte, ..] if byte.is_ascii() => ascii.contains(*byte).then_some((char::from(*byte), 1)),
        // U+0080–U+009F is `C2` then the code point itself as the continuation byte.
        [0xC2, second @ 0x80..=0x9F, ..] => Some((char::from(*second), 2)),
        [0xE2, 0x80, 0xA8, ..] => Some(('\u{2028}', 3)),
        [0xE2, 0x80, 0xA9, ..] => Some(('\u{2029}', 3)),
        _ => None,
    }
}

/// The offset in `bytes` of the first byte at or after `from` that may start a treated
/// character.
#[inline]
fn next_candidate(bytes: &[u8], from: usize, ascii: AsciiSet) -> Option<usize> {
    let (words, tail) = bytes.get(from..)?.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        if ascii.may_hold_special(u64::from_ne_bytes(*word))
            && let Some(at) = word.iter().position(|&b| ascii.may_start_special(b))
        {
            return Some(from + 8 * i + at);
        }
    }
    if tail.is_empty() {
        return None;
    }
    // The tail (under eight bytes) is the end of the value's last eight bytes: when that word
    // is clean, so is the tail, and the byte-by-byte scan below is skipped. (Its bytes before
    // the tail may be ones already treated; then the word test only sends us to the scan.)
    if let Some(last) = bytes.last_chunk::<8>()
        && !ascii.may_hold_special(u64::from_ne_bytes(*last))
    {
        return None;
    }
    let at = tail.iter().position(|&b| ascii.may_start_special(b))?;
    Some(from + 8 * words.len() + at)
}

/// Writes `value` under `rule`: runs of untreated bytes in one write each, every treated
/// character (the ASCII bytes of `rule.ascii`, U+0080–U+009F, U+2028, U+2029) as
/// `(rule.escape)(c)`.
#[inline]
pub(crate) fn escape<W: Write>(out: &mut Out<'_, W>, value: &str, rule: Rule) -> Result<(), Error> {
    let ascii = rule.ascii;
    let bytes = value.as_bytes();
    // `bytes[..written]` is out; `bytes[written..scanned]` is clean and pending.
    let mut written = 0;
    let mut scanned = 0;
    while let Some(at) = next_candidate(bytes, scanned, ascii) {
        match special_at(bytes.get(at..).unwrap_or(&[]), ascii) {
            Some((c, len)) => {
                let clean = bytes.get(written..at).unwrap_or(&[]);
                if !clean.is_empty() {
                    out.bytes(clean)?;
                }
                out.bytes((rule.escape)(c).as_bytes())?;
                scanned = at + len;
                written = scanned;
            }
            // A `C2`/`E2` character that is not treated is copied with its run.
            None => scanned = at + 1,
        }
    }
    let clean = bytes.get(written..).unwrap_or(&[]);
    if clean.is_empty() {
        return Ok(());
    }
    out.bytes(clean)
}

/// Writes the event id `<sensor>-<id>` (see [`EventId`](crate::alert::EventId)) with the
/// sensor name escaped under `rule`; the `-` and the digits need no format's escaping.
pub(crate) fn event_id<W: Write>(
    out: &mut Out<'_, W>,
    event: &crate::alert::Event,
    rule: Rule,
) -> Result<(), Error> {
    let id = event.event_id();
    escape(out, id.sensor, rule)?;
    let mut text = StackText::<{ 1 + MAX_U64_TEXT }>::new();
    text.push(b'-');
    text.push_decimal(id.id, 1);
    out.bytes(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::sink::rendered;
    use crate::format::{cef, hec, leef, syslog, text};
    use proptest::prelude::*;
    use std::string::String as StdString;
    use std::vec;

    /// Every rule of every format, with its documented set of treated characters written
    /// char by char (independently of the byte scanner).
    fn rules() -> [(&'static str, &'static dyn Fn(char) -> bool); 7] {
        [
            (
                "text",
                &|c| matches!(c, '\\' | '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}'),
            ),
            (
                "hec",
                &|c| matches!(c, '"' | '\\' | '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}'),
            ),
            ("cef header", &|c| {
                matches!(c, '\\' | '|' | '\u{2028}' | '\u{2029}') || c.is_control()
            }),
            ("cef extension", &|c| {
                matches!(c, '\\' | '=' | '\u{2028}' | '\u{2029}') || c.is_control()
            }),
            ("leef header", &|c| {
                matches!(c, '\\' | '|' | '\u{2028}' | '\u{2029}') || c.is_control()
            }),
            ("leef attribute", &|c| {
                matches!(c, '\\' | '\u{2028}' | '\u{2029}') || c.is_control()
            }),
            ("syslog param", &|c| {
                matches!(c, '"' | '\\' | ']' | '\u{2028}' | '\u{2029}') || c.is_control()
            }),
        ]
    }

    /// `value` under the rule named `name`, through the byte scanner.
    fn scanned(name: &str, value: &str) -> StdString {
        rendered(8 * value.len() + 8, |out| {
            match name {
                "text" => escape(out, value, text::VALUE),
                "hec" => escape(out, value, hec::STRING),
                "cef header" => escape(out, value, cef::HEADER),
                "cef extension" => escape(out, value, cef::EXTENSION),
                "leef header" => escape(out, value, leef::HEADER),
                "leef attribute" => escape(out, value, leef::ATTRIBUTE),
                _ => escape(out, value, syslog::PARAM_VALUE),
            }
            .unwrap()
        })
    }

    /// `value` under the rule named `name`, char by char: the reference for the scanner.
    fn naive(name: &str, value: &str) -> StdString {
        let escaped = |c: char| match name {
            "text" => (text::VALUE.escape)(c),
            "hec" => (hec::STRING.escape)(c),
            "cef header" => (cef::HEADER.escape)(c),
            "cef extension" => (cef::EXTENSION.escape)(c),
            "leef header" => (leef::HEADER.escape)(c),
            "leef attribute" => (leef::ATTRIBUTE.escape)(c),
            _ => (syslog::PARAM_VALUE.escape)(c),
        };
        let special = rules().into_iter().find(|(n, _)| *n == name).unwrap().1;
        let mut out = StdString::new();
        for c in value.chars() {
            if special(c) {
                out.push_str(core::str::from_utf8(escaped(c).as_bytes()).unwrap());
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn every_rule_treats_exactly_its_documented_characters() {
        for (name, special) in rules() {
            for c in ('\0'..='\u{3000}').chain(['\u{fffd}', '\u{feff}', '\u{10ffff}']) {
                let mut buf = [0u8; 4];
                let value = c.encode_utf8(&mut buf);
                let expect_changed = special(c);
                assert_eq!(
                    scanned(name, value) != *value,
                    expect_changed,
                    "{name}: {c:?}"
                );
            }
        }
    }

    #[test]
    fn the_word_test_never_misses_a_byte_that_may_start_a_treated_character() {
        let sets = [
            AsciiSet::controls_and(b""),
            AsciiSet::controls_and(b"\\"),
            AsciiSet::controls_and(b"\"\\]"),
            AsciiSet::controls_and(b"\\|=\"]"),
        ];
        for set in sets {
            for byte in 0..=u8::MAX {
                for position in 0..8 {
                    let mut word = [b'a'; 8];
                    if let Some(slot) = word.get_mut(position) {
                        *slot = byte;
                    }
                    if set.may_start_special(byte) {
                        assert!(set.may_hold_special(u64::from_ne_bytes(word)), "{byte:#x}");
                    }
                }
            }
            assert!(!set.may_hold_special(u64::from_ne_bytes(*b"abcXYZ09")));
        }
    }

    #[test]
    fn a_short_value_is_clean_only_without_any_treated_byte() {
        let sets = [
            hec::STRING.ascii,
            text::VALUE.ascii,
            cef::EXTENSION.ascii,
            syslog::PARAM_VALUE.ascii,
        ];
        for set in sets {
            for len in 0..=SHORT_VALUE + 1 {
                let clean = vec![b'a'; len];
                assert_eq!(set.short_is_clean(&clean), len <= SHORT_VALUE, "{len}");
                for at in 0..len {
                    for byte in 0..=u8::MAX {
                        let mut value = clean.clone();
                        if let Some(slot) = value.get_mut(at) {
                            *slot = byte;
                        }
                        if set.may_start_special(byte) {
                            assert!(!set.short_is_clean(&value), "{byte:#x} at {at} of {len}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_widest_escapes_fit_their_stack_text() {
        assert_eq!(scanned("text", "\u{2029}"), "\\u{2029}");
        assert_eq!(scanned("text", "\u{1}"), "\\x01");
        assert_eq!(scanned("hec", "\u{1}\u{9f}"), "\\u0001\\u009f");
        assert_eq!(
            scanned("leef attribute", "\u{85}\u{2028}"),
            "\\u0085\\u2028"
        );
        assert_eq!(scanned("cef extension", "\u{7}"), "\u{fffd}");
    }

    /// Strings rich in the characters that some rule treats, near misses, and other text.
    fn arb_value() -> impl Strategy<Value = StdString> {
        let interesting = prop::sample::select(vec![
            '\\', '"', '|', '=', ']', '\n', '\r', '\t', '\0', '\u{8}', '\u{c}', '\u{1b}', '\u{7f}',
            '\u{80}', '\u{85}', '\u{9f}', '\u{a0}', '\u{bf}', '\u{2027}', '\u{2028}', '\u{2029}',
            '\u{202a}', '\u{20ac}', 'é', '日', '😀', 'a', ' ', '-',
        ]);
        prop::collection::vec(prop_oneof![interesting, any::<char>()], 0..48)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn scanner_equals_the_char_by_char_reference(value in arb_value()) {
            for (name, _) in rules() {
                prop_assert_eq!(scanned(name, &value), naive(name, &value), "{}", name);
            }
        }
    }
}
