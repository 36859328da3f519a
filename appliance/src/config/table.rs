//! Deserializing one TOML table into its serde struct, with the spans: every key serde
//! refuses (unknown, or a value of the wrong type) is reported with its key path, its line
//! and column and a fix in an operator's words ([`explain_serde`]), taken out, and the table
//! tried again, so that every such key is reported at once. Also [`fields_of`], the keys a
//! serde struct takes (so a table's keys are written once, in its struct).
//!
//! Used by the sections (`document.rs`) and by each destination kind's keys
//! (`destination/<kind>/config.rs`); it uses neither.

use std::ops::Range;

use serde::de::{DeserializeOwned, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::validate::Ctx;

/// Keys holding a secret inline, whose value serde's messages must not quote.
const SECRET_KEYS: [&str; 2] = [".password", ".token"];

/// How many wrong keys one table may have before the rest are left unreported.
pub(crate) const MAX_KEY_ERRORS_PER_TABLE: usize = 64;

/// `value` (the value at `path`) as a table, or reported as not one.
pub(crate) fn as_table<'a>(
    ctx: &mut Ctx<'_>,
    value: Spanned<DeValue<'a>>,
    path: &str,
) -> Option<(DeTable<'a>, Range<usize>)> {
    let span = value.span();
    match value.into_inner() {
        DeValue::Table(t) => Some((t, span)),
        other => {
            ctx.report(
                span,
                path,
                format!("`{path}` must be a table, not a {}", other.type_str()),
                format!("write it as a [{path}] section"),
            );
            None
        }
    }
}

/// Deserializes one table: [`as_table`], then [`deserialize_table`].
pub(crate) fn table<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    value: Spanned<DeValue<'_>>,
    path: &str,
) -> Option<(T, Range<usize>)> {
    let (t, span) = as_table(ctx, value, path)?;
    deserialize_table(ctx, t, &span, path).map(|parsed| (parsed, span))
}

/// Deserializes the table `t` (at `span`, key path `path`) into `T`. A key serde refuses
/// (unknown, or a value of the wrong type) is reported, taken out, and the table tried again,
/// so every such key is reported; a key taken out is remembered so that it is not reported
/// again as missing. `None` when more than [`MAX_KEY_ERRORS_PER_TABLE`] keys are wrong.
pub(crate) fn deserialize_table<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    t: DeTable<'_>,
    span: &Range<usize>,
    path: &str,
) -> Option<T> {
    deserialize_within(ctx, t, span, path, &mut key_error_budget())
}

/// How many wrong keys of one table are reported: [`MAX_KEY_ERRORS_PER_TABLE`], and one
/// more that ends the table (it is then left unread).
pub(crate) const fn key_error_budget() -> usize {
    MAX_KEY_ERRORS_PER_TABLE + 1
}

/// [`deserialize_table`] for a part of a table, the wrong keys counted against `budget`, the
/// table's (shared by its parts); `None` once it is spent.
pub(crate) fn deserialize_within<T: DeserializeOwned>(
    ctx: &mut Ctx<'_>,
    mut t: DeTable<'_>,
    span: &Range<usize>,
    path: &str,
    budget: &mut usize,
) -> Option<T> {
    loop {
        if *budget == 0 {
            return None;
        }
        let e = match attempt::<T>(&t, span) {
            Ok(parsed) => return Some(parsed),
            Err(e) => e,
        };
        *budget -= 1;
        let top = report_serde(ctx, &e, &t, span, path)?;
        drop_key(ctx, &mut t, path, &top);
    }
}

/// Deserializes (a copy of) the table `t` at `span` into `T`.
pub(crate) fn attempt<T: DeserializeOwned>(
    t: &DeTable<'_>,
    span: &Range<usize>,
) -> Result<T, toml::de::Error> {
    let value = Spanned::new(span.clone(), DeValue::Table(t.clone()));
    T::deserialize(ValueDeserializer::from(value))
}

/// Reports serde's error `e` about the table `t` (at `span`, key path `path`) in an
/// operator's words, with the path of the key it is about; returns that key's name in `t`
/// (`None` when no key of `t` holds the error).
pub(crate) fn report_serde(
    ctx: &mut Ctx<'_>,
    e: &toml::de::Error,
    t: &DeTable<'_>,
    span: &Range<usize>,
    path: &str,
) -> Option<String> {
    let at = e.span().unwrap_or(span.clone());
    let inner = locate_in_table(t, at.start);
    let key = if inner.is_empty() {
        path.to_owned()
    } else {
        format!("{path}.{inner}")
    };
    let (mut message, fix) = explain_serde(e.message());
    if SECRET_KEYS.iter().any(|k| key.ends_with(k)) {
        // serde quotes the value it refused; for a secret that must not be shown.
        message = "wrong type (the value is not shown: it is a secret)".to_owned();
    }
    ctx.report(at.clone(), &key, message, fix);
    top_key(t, at.start)
}

/// The name of the key of `t` whose key or value holds `offset`.
pub(crate) fn top_key(t: &DeTable<'_>, offset: usize) -> Option<String> {
    t.iter()
        .find(|(k, v)| k.span().contains(&offset) || v.span().contains(&offset))
        .map(|(k, _)| k.get_ref().to_string())
}

/// Takes the key `top` out of `t` (at `path`), remembered as already reported.
pub(crate) fn drop_key(ctx: &mut Ctx<'_>, t: &mut DeTable<'_>, path: &str, top: &str) {
    ctx.removed.insert(format!("{path}.{top}"));
    t.remove(top);
}

/// The keys the serde struct `T` takes, as its derive lists them (so a table's keys are
/// written once, in its struct).
pub(crate) fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut probe = FieldsProbe(None);
    // The probe fails every deserialization; it only records the field names it was shown.
    let _ = T::deserialize(&mut probe);
    probe.0.unwrap_or(&[])
}

/// A deserializer that records the field names a derived struct asks it for.
struct FieldsProbe(Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for &mut FieldsProbe {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = Some(fields);
        Err(serde::de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The key path, inside `t`, of the key or value at `offset` (empty when none holds it).
pub(crate) fn locate_in_table(t: &DeTable<'_>, offset: usize) -> String {
    locate(&DeValue::Table(t.clone()), offset)
}

/// The key path, inside `value`, of the key or value at `offset` (empty when none holds it).
fn locate(value: &DeValue<'_>, offset: usize) -> String {
    match value {
        DeValue::Table(t) => {
            for (k, v) in t.iter() {
                let in_key = k.span().contains(&offset);
                let in_value = v.span().contains(&offset);
                if in_key || in_value {
                    let inner = if in_value {
                        locate(v.get_ref(), offset)
                    } else {
                        String::new()
                    };
                    let name = k.get_ref().as_ref();
                    return if inner.is_empty() {
                        name.to_owned()
                    } else if inner.starts_with('[') {
                        format!("{name}{inner}")
                    } else {
                        format!("{name}.{inner}")
                    };
                }
            }
            String::new()
        }
        DeValue::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                if v.span().contains(&offset) {
                    let inner = locate(v.get_ref(), offset);
                    return if inner.is_empty() || inner.starts_with('[') {
                        format!("[{i}]{inner}")
                    } else {
                        format!("[{i}].{inner}")
                    };
                }
            }
            String::new()
        }
        _ => String::new(),
    }
}

/// Rewrites serde's wording for an operator: `(message, fix)`.
pub(crate) fn explain_serde(message: &str) -> (String, String) {
    let message = message.trim_end();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (field, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let expected = expected.strip_prefix("one of ").unwrap_or(expected);
        return (
            format!("unknown key {field}"),
            format!("check the spelling; the keys here are: {expected}"),
        );
    }
    for (name, what) in [
        (
            "Size",
            "a size: a number of bytes or a text such as \"64 MiB\"",
        ),
        (
            "Text",
            "a duration such as \"30s\", \"500ms\", \"5m\" or \"1h\"",
        ),
        ("AllOr", "\"all\" or a list of names such as [\"Modbus\"]"),
        (
            "Level",
            "a syslog code (a number) or its name, such as \"user\" or \"warning\"",
        ),
        ("Mode", "a file mode such as 0o660 or \"0660\""),
    ] {
        if message.contains(&format!("untagged enum {name}")) {
            return (
                format!("wrong type: expected {what}"),
                format!("write {what}"),
            );
        }
    }
    let wording = message
        .replace("invalid type: ", "wrong type: ")
        .replace("expected i64", "expected an integer")
        .replace("expected a string", "expected a text in double quotes")
        .replace("expected a boolean", "expected true or false");
    let fix = if wording.contains("expected an integer") {
        "write a number without quotes"
    } else if wording.contains("expected a text") {
        "put the value in double quotes"
    } else if wording.contains("expected true or false") {
        "write true or false, without quotes"
    } else if wording.contains("sequence") {
        "write a list in brackets, such as [\"a\", \"b\"]"
    } else {
        "see docs/configuration.md for this key"
    };
    (wording, fix.to_owned())
}
