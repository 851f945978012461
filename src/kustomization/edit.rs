//! Byte-level edits: splicing scalars, quoting values, moving entries between
//! lists that are indented or styled differently.

use std::ops::Range;

use super::Eol;

/// Applies non-overlapping replacements to `src` (in any order).
pub fn splice(src: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let size = edits
        .iter()
        .fold(src.len(), |n, (r, text)| n - r.len() + text.len());
    let mut out = String::with_capacity(size);
    let mut at = 0;
    for (range, text) in edits {
        debug_assert!(range.start >= at, "overlapping edits");
        out.push_str(&src[at..range.start]);
        out.push_str(&text);
        at = range.end;
    }
    out.push_str(&src[at..]);
    out
}

/// Whether this value, written plain, would not read back as a string: a
/// number, bool or null to kustomize ([`crate::yaml11`]), or a sexagesimal
/// number (`1:20`), which go-yaml v2 reads as a string but YAML 1.1 and other
/// readers don't. Such values fail kustomize's decoding into string fields
/// (`newTag: 1.10`), so they are always written quoted.
pub fn is_yaml11_non_string(value: &str) -> bool {
    let sexagesimal = |v: &str| {
        let body = v.strip_prefix(['-', '+']).unwrap_or(v);
        body.contains(':')
            && !body.starts_with('0')
            && body
                .split(':')
                .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit() || c == b'_'))
    };
    !crate::yaml11::is_string(value) || sexagesimal(value)
}

/// Whether `value` can be written as a plain scalar in block context and read
/// back as the same string.
pub fn plain_safe(value: &str, flow: bool) -> bool {
    let Some(first) = value.chars().next() else {
        return false;
    };
    if is_yaml11_non_string(value)
        || value.starts_with(char::is_whitespace)
        || value.ends_with(char::is_whitespace)
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
            && !(first == '-' && value.len() > 1 && !value[1..].starts_with(' '))
        || value.contains(": ")
        || value.contains(" #")
        || value.ends_with(':')
        || value.chars().any(|c| c.is_control())
    {
        return false;
    }
    !(flow && value.contains([',', '[', ']', '{', '}']))
}

/// Writes `value` as a YAML scalar token. `like` is the token it replaces:
/// its quote style is kept (a setter must not re-quote what the user quoted)
/// when that style holds the value without an escape; otherwise the value is
/// plain when that reads back as the same string, and quoted when not.
pub fn scalar_token(value: &str, like: Option<&str>, flow: bool) -> String {
    // A style is kept only where it needs no escape: the model reads only
    // scalars whose text is their value (see `Field`).
    let (single, double) = quotes_holding(value);
    let like = like.and_then(|t| t.chars().next());
    match like {
        Some('\'') if single => single_quoted(value),
        Some('"') if double => double_quoted(value),
        _ if !matches!(like, Some('\'' | '"')) && plain_safe(value, flow) => value.to_owned(),
        _ if double || !single => double_quoted(value),
        _ => single_quoted(value),
    }
}

/// Which quote styles hold `value` without an escape, (single, double):
/// single quotes hold anything but `'`, double quotes anything but `"` and
/// `\`, and neither a control character.
fn quotes_holding(value: &str) -> (bool, bool) {
    let control = value.chars().any(char::is_control);
    (
        !control && !value.contains('\''),
        !control && !value.contains(['"', '\\']),
    )
}

/// Whether writing `value` as YAML takes an escape in every style. The model
/// reads only scalars whose text is their value (see
/// [`Field`](super::Field)), so such a value can't be written.
pub fn needs_escapes(value: &str) -> bool {
    quotes_holding(value) == (false, false)
}

fn single_quoted(value: &str) -> String {
    if value.chars().any(char::is_control) {
        return double_quoted(value);
    }
    format!("'{}'", value.replace('\'', "''"))
}

fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Re-indents block text by `to - from` columns and converts its line breaks
/// to `eol`. Lines indented less than the shift lose only what they have.
pub fn reindent(text: &str, from: usize, to: usize, eol: Eol) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if i > 0 {
            out.push_str(eol.as_str());
        }
        if line.trim().is_empty() {
            out.push_str(line);
        } else if to >= from {
            out.extend(std::iter::repeat_n(' ', to - from));
            out.push_str(line);
        } else {
            let lead = line.len() - line.trim_start_matches(' ').len();
            out.push_str(&line[lead.min(from - to)..]);
        }
    }
    out
}

/// Each line break of `text`, in order: `\r\n` or `\n`.
pub fn line_breaks(text: &str) -> Vec<&'static str> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'\n', bytes)
        .map(|i| {
            if i > 0 && bytes[i - 1] == b'\r' {
                "\r\n"
            } else {
                "\n"
            }
        })
        .collect()
}

/// `text` with its i-th line break replaced by `breaks[i]` (where given):
/// line endings are per line, and a file may mix them.
pub fn rebreak(text: &str, breaks: &[&str]) -> String {
    let mut out = String::with_capacity(text.len() + breaks.len());
    let mut lines = text.split('\n').peekable();
    let mut i = 0;
    while let Some(line) = lines.next() {
        if lines.peek().is_none() {
            out.push_str(line);
            break;
        }
        let own = line.strip_suffix('\r');
        out.push_str(own.unwrap_or(line));
        out.push_str(
            breaks
                .get(i)
                .copied()
                .unwrap_or(if own.is_some() { "\r\n" } else { "\n" }),
        );
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_numbers_and_bools_are_detected() {
        for v in [
            "1.10", "10", "1e3", "012", ".5", "+1", "1_000", "0x1F", "yes", "on", "true", "~",
            "1:20", "-1", ".inf",
        ] {
            assert!(is_yaml11_non_string(v), "{v}");
        }
        for v in [
            "1.0.0",
            "v1.0",
            "1.0-rc1",
            "2024-01-01",
            "latest",
            "sha256:abc",
            "-",
            "1a",
            "a1",
        ] {
            assert!(!is_yaml11_non_string(v), "{v}");
        }
    }

    #[test]
    fn scalar_token_keeps_quote_style_and_quotes_ambiguous_values() {
        assert_eq!(scalar_token("1.2.4", Some("\"1.2.3\""), false), "\"1.2.4\"");
        // A style that would need an escape gives way to the other quotes.
        assert_eq!(scalar_token("it's", Some("'x'"), false), "\"it's\"");
        assert_eq!(scalar_token("a\"b", Some("\"x\""), false), "'a\"b'");
        assert_eq!(scalar_token("a\\b", Some("\"x\""), false), "'a\\b'");
        assert_eq!(scalar_token("1.2.4", Some("1.2.3"), false), "1.2.4");
        assert_eq!(scalar_token("1.10", Some("1.9.0"), false), "\"1.10\"");
        assert_eq!(scalar_token("a,b", None, true), "\"a,b\"");
        assert_eq!(scalar_token("a,b", None, false), "a,b");
    }

    #[test]
    fn reindent_shifts_and_converts_line_breaks() {
        assert_eq!(
            reindent("- a\n  b: c", 0, 2, Eol::Crlf),
            "  - a\r\n    b: c"
        );
        assert_eq!(reindent("  - a\r\n\r\n    b", 2, 0, Eol::Lf), "- a\n\n  b");
    }

    #[test]
    fn rebreak_sets_each_line_break_and_keeps_the_rest() {
        let text = "a\r\nb\nc\nd";
        assert_eq!(line_breaks(text), ["\r\n", "\n", "\n"]);
        assert_eq!(rebreak(text, &["\n", "\r\n"]), "a\nb\r\nc\nd");
        assert_eq!(rebreak("a\n", &["\r\n"]), "a\r\n");
    }
}
