//! How kustomize types a plain scalar: YAML 1.1, exactly as go-yaml v2's
//! `resolve` does it (kustomize decodes through `sigs.k8s.io/yaml`, which
//! uses go-yaml v2, then Go's `encoding/json`).
//!
//! This is the one home of that rule. Both the planner (values compare as
//! typed scalars, so `newTag: 1.10` is not `newTag: "1.10"`) and the
//! independent reader ([`crate::meaning`]) use it; `kubectl kustomize` in the
//! differential tests is the check on the rule itself.
//!
//! go-yaml v2 looks at the first character for a hint, then:
//! - `y Y n N t T f F o O ~` and the empty scalar: only the words of YAML
//!   1.1's bool and null tables (`yes`, `On`, `NULL`, ...);
//! - `.`: the `.inf`/`.nan` words, else Go's `ParseFloat` (`.5`);
//! - a digit, `+` or `-`: with every `_` removed, Go's `ParseInt(s, 0, 64)`
//!   (`0x1F`, `0o17`, `0b101`, `012` octal), then `ParseUint`, then a float
//!   matching `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`;
//! - anything else is a string.
//!
//! Timestamps (`2024-01-01`) stay strings when decoded into an interface, as
//! kustomize does; sexagesimal numbers (`1:20`) are YAML 1.1 but not go-yaml
//! v2, so they are strings too.

/// What a plain scalar is to kustomize.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Plain {
    /// `~`, `null`, `Null`, `NULL` or nothing: the field is absent.
    Null,
    /// `yes`, `on`, `true`, `n`, ... (YAML 1.1's bool words).
    Bool(bool),
    /// An integer (any base go-yaml v2 reads).
    Int(i128),
    /// A float (`1.10`, `1e3`, `.5`, `.inf`).
    Float(f64),
    /// Anything else: the scalar's text is its value.
    Str,
}

const TRUE: [&str; 11] = [
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
];
const FALSE: [&str; 11] = [
    "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
];
const NULL: [&str; 5] = ["", "~", "null", "Null", "NULL"];

/// Whether a plain scalar is YAML 1.1's null (the field is absent).
pub fn is_null(plain: &str) -> bool {
    NULL.contains(&plain)
}

/// Types a plain (unquoted, untagged) scalar the way go-yaml v2 does.
pub fn resolve(plain: &str) -> Plain {
    if is_null(plain) {
        return Plain::Null;
    }
    if TRUE.contains(&plain) {
        return Plain::Bool(true);
    }
    if FALSE.contains(&plain) {
        return Plain::Bool(false);
    }
    match plain.as_bytes()[0] {
        b'.' => match plain {
            ".nan" | ".NaN" | ".NAN" => Plain::Float(f64::NAN),
            ".inf" | ".Inf" | ".INF" => Plain::Float(f64::INFINITY),
            _ => go_float(plain).map_or(Plain::Str, Plain::Float),
        },
        b'+' | b'-' if matches!(&plain[1..], ".inf" | ".Inf" | ".INF") => {
            Plain::Float(if plain.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        b'0'..=b'9' | b'+' | b'-' => {
            let stripped = plain.replace('_', "");
            if let Some(n) = go_int(&stripped) {
                Plain::Int(n)
            } else if float_shaped(&stripped) {
                go_float(&stripped).map_or(Plain::Str, Plain::Float)
            } else {
                Plain::Str
            }
        }
        _ => Plain::Str,
    }
}

/// Whether kustomize reads this plain scalar as a string.
pub fn is_string(plain: &str) -> bool {
    resolve(plain) == Plain::Str
}

/// Go's `ParseInt(s, 0, 64)`, falling back to `ParseUint(s, 0, 64)` (which
/// takes no sign): the range of either.
fn go_int(s: &str) -> Option<i128> {
    let (negative, signed, body) = match s.as_bytes().first() {
        Some(b'-') => (true, true, &s[1..]),
        Some(b'+') => (false, true, &s[1..]),
        _ => (false, false, s),
    };
    let (radix, digits) = match body.get(..2) {
        Some("0x" | "0X") => (16, &body[2..]),
        Some("0o" | "0O") => (8, &body[2..]),
        Some("0b" | "0B") => (2, &body[2..]),
        _ if body.len() > 1 && body.starts_with('0') => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.bytes().all(|c| (c as char).is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    let value = if negative {
        -i128::try_from(magnitude).ok()?
    } else {
        i128::try_from(magnitude).ok()?
    };
    let fits_signed = i64::try_from(value).is_ok();
    let fits_unsigned = !signed && u64::try_from(value).is_ok();
    (fits_signed || fits_unsigned).then_some(value)
}

/// go-yaml v2's `yamlStyleFloat`: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn float_shaped(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

/// Go's `ParseFloat(s, 64)` for the decimal shapes go-yaml v2 hands it: an
/// out-of-range value is an error there (and the scalar stays a string).
fn go_float(s: &str) -> Option<f64> {
    if !s
        .bytes()
        .all(|c| c.is_ascii_digit() || b"+-.eE".contains(&c))
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::{Plain, resolve};

    #[test]
    fn numbers_bools_and_nulls_are_what_go_yaml_v2_makes_of_them() {
        for (text, want) in [
            ("1.10", Plain::Float(1.1)),
            ("10", Plain::Int(10)),
            ("1e3", Plain::Float(1000.0)),
            ("012", Plain::Int(10)),
            ("019", Plain::Float(19.0)),
            (".5", Plain::Float(0.5)),
            ("+1", Plain::Int(1)),
            ("-1", Plain::Int(-1)),
            ("1_000", Plain::Int(1000)),
            ("0x1F", Plain::Int(31)),
            ("0o17", Plain::Int(15)),
            ("0b101", Plain::Int(5)),
            ("1.", Plain::Float(1.0)),
            (
                "18446744073709551615",
                Plain::Int(18_446_744_073_709_551_615),
            ),
            ("99999999999999999999", Plain::Float(1e20)),
            ("yes", Plain::Bool(true)),
            ("Off", Plain::Bool(false)),
            ("y", Plain::Bool(true)),
            ("~", Plain::Null),
            ("", Plain::Null),
            ("NULL", Plain::Null),
        ] {
            assert_eq!(resolve(text), want, "{text}");
        }
    }

    #[test]
    fn tags_that_look_numeric_but_are_not_stay_strings() {
        for text in [
            "1.0.0",
            "v1.0",
            "1.0-rc1",
            "2024-01-01",
            "1:20",
            "0x",
            "-",
            "+",
            "nULL",
            "yES",
            "1e",
            "1e400",
            ".",
            "0xFFFFFFFFFFFFFFFFFF",
            "-0x",
            "_1",
            "1.2.3_4",
            "sha256:ab",
        ] {
            assert_eq!(resolve(text), Plain::Str, "{text}");
        }
    }
}
