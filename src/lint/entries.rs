//! Rules on the entries of `images:` and `replicas:`: names, field names
//! as kustomize decodes them, and the values it would fail to decode or
//! would pass on malformed.

use std::collections::HashMap;

use super::{Report, position};
use crate::kustomization::edit::is_yaml11_non_string;
use crate::kustomization::schema::ListSchema;
use crate::kustomization::{Document, Field, KeyedList};

pub(super) fn entries(
    file: &str,
    doc: &Document<'_>,
    schema: &ListSchema,
    list: &KeyedList,
    report: &mut Report,
) {
    let src = doc.src;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for entry in &list.entries {
        let name = entry.read_name(src);
        if name.is_empty() {
            report.problem(
                file,
                position(src, entry.start),
                "missing-name",
                format!("this `{}:` entry has no `name`", schema.key),
                "add `name:`; without it the entry selects nothing".to_owned(),
            );
        } else if let Some(first) = seen.get(name) {
            let f = entry.field_ci(src, "name");
            report.problem(
                file,
                f.map_or(position(src, entry.start), |f| position(src, f.value_span().start)),
                "duplicate-name",
                format!("`{name}` already has an entry at line {first}"),
                "merge the two entries: both apply on build (the later one wins), while `kustomize edit` keeps only the first".to_owned(),
            );
        } else {
            seen.insert(name, entry.line);
        }
        for f in &entry.fields {
            field(file, src, schema, f, report);
        }
    }
}

fn field(file: &str, src: &str, schema: &ListSchema, f: &Field, report: &mut Report) {
    let key = f.key(src);
    let key_at = position(src, f.key_span().start);
    let Some(known) = schema
        .fields
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(key))
    else {
        let fix = match schema.suggest(key) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the fields are {}", schema.fields.join(", ")),
        };
        report.problem(
            file,
            key_at,
            "unknown-field",
            format!(
                "`{}` is not a field of `{}:` entries; kustomize rejects the file (it matches field names case-insensitively, so only the spelling counts)",
                key, schema.key
            ),
            fix,
        );
        return;
    };
    if known != key {
        report.problem(
            file,
            key_at,
            "field-case",
            format!(
                "`{key}` is read as `{known}` by kustomize, which matches field names case-insensitively, but Flux, Argo CD Image Updater and kustomerge match them exactly"
            ),
            format!("write `{known}`"),
        );
        report.fixable(f.key_span(), known.to_owned());
    }
    let Some(value) = f.read(src) else { return };
    let at = position(src, f.value_span().start);
    if known == "count" {
        count(file, f, value, at, report);
        return;
    }
    if f.plain() && is_yaml11_non_string(value) {
        report.problem(
            file,
            at,
            "yaml11-scalar",
            format!(
                "`{known}: {value}` is unquoted, so kustomize (YAML 1.1) reads a number or a bool and fails to decode it as a string"
            ),
            format!("quote it: `{known}: \"{value}\"`"),
        );
        // Quoting a value YAML reads as null would turn "absent" into the
        // string `~`; `Field::read` has left those out already. A plain scalar
        // holding `"` or `\` (no number or bool does) would need escapes.
        if !value.contains(['"', '\\']) {
            report.fixable(f.value_span(), format!("\"{value}\""));
        }
    }
    if known == "digest"
        && let Some(why) = digest_problem(value)
    {
        report.problem(
            file,
            at,
            "malformed-digest",
            format!("`digest: {value}` {why}"),
            "write `<algorithm>:<hex>`, e.g. `sha256:` and 64 lowercase hex digits (`docker buildx imagetools inspect` prints it)".to_owned(),
        );
    }
    if known == "newTag" && value.contains(['@', '/', ' ']) {
        report.problem(
            file,
            at,
            "malformed-tag",
            format!("`newTag: {value}` is not a tag"),
            "put only the tag here; a digest goes in `digest`, a repository in `newName`"
                .to_owned(),
        );
    }
}

fn count(file: &str, f: &Field, value: &str, at: (usize, usize), report: &mut Report) {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    let integer = f.plain() && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if !integer {
        report.problem(
            file,
            at,
            "invalid-count",
            format!("`count: {}` is not an integer", &src_token(f, value)),
            "write a plain whole number, unquoted: `count: 3`".to_owned(),
        );
    } else if value.starts_with('-') {
        report.problem(
            file,
            at,
            "invalid-count",
            format!("`count: {value}` is negative"),
            "replica counts are 0 or more".to_owned(),
        );
    }
}

fn src_token(f: &Field, value: &str) -> String {
    if f.plain() {
        value.to_owned()
    } else {
        format!("\"{value}\"")
    }
}

/// Why a digest is malformed: OCI's `algorithm ":" encoded`, with the
/// lengths of the registered algorithms enforced.
fn digest_problem(value: &str) -> Option<&'static str> {
    let Some((alg, hex)) = value.split_once(':') else {
        return Some("has no `<algorithm>:` prefix");
    };
    let alg_ok = !alg.is_empty()
        && alg.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !alg_ok {
        return Some("has a malformed algorithm");
    }
    let lower_hex = |len: usize| {
        hex.len() == len
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    match alg {
        "sha256" if !lower_hex(64) => Some("is not 64 lowercase hex digits after `sha256:`"),
        "sha512" if !lower_hex(128) => Some("is not 128 lowercase hex digits after `sha512:`"),
        _ if hex.is_empty()
            || !hex
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b)) =>
        {
            Some("has a malformed encoded part")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::digest_problem;

    #[test]
    fn digests_follow_the_oci_grammar() {
        let good = "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3";
        assert_eq!(digest_problem(good), None);
        assert_eq!(digest_problem("blake3:abc_DEF="), None);
        for bad in [
            "24a0c4b4",
            "sha256:abc",
            "sha256:24A0C4B4A4C0EB97A1AABB8E29F18E917D05ABFE1B7A7C07857230879CE7D3D3",
            "SHA256:abc",
            ":abc",
            "sha256:",
            "sha512:abc",
        ] {
            assert!(digest_problem(bad).is_some(), "{bad}");
        }
    }
}
