//! Rules on the file as a whole: its encoding, leftover conflict markers,
//! what the span locator refused (a problem when kustomize refuses it too,
//! a note when only kustomerge's model is too narrow), and top-level keys.

use super::{Report, position};
use crate::kustomization::{self, Document, ErrorKind};
use crate::meaning;

/// Reports leftover merge conflict markers. They are looked for before
/// parsing because the YAML error they cause points somewhere else.
pub(super) fn conflict_markers(file: &str, src: &str, report: &mut Report) -> bool {
    let marker = |line: &str, c: char| {
        let run = line.len() - line.trim_start_matches(c).len();
        run >= 7
            && line[run..]
                .chars()
                .next()
                .is_none_or(|n| n == ' ' || n == '\r')
    };
    let lines: Vec<&str> = src.split('\n').collect();
    // `=======` alone is a legitimate line (in a block scalar, say); it is
    // a marker only next to an opening or closing one.
    let opened = lines.iter().any(|l| marker(l, '<') || marker(l, '>'));
    if !opened {
        return false;
    }
    for (i, line) in lines.iter().enumerate() {
        if ['<', '>', '|', '='].iter().any(|&c| marker(line, c)) {
            report.problem(
                file,
                (i + 1, 1),
                "conflict-marker",
                format!(
                    "leftover merge conflict marker `{}`",
                    line.trim_end_matches('\r')
                ),
                "resolve the conflict and delete the marker lines (`kustomerge install` registers a merge driver that resolves image-tag conflicts)".to_owned(),
            );
        }
    }
    true
}

/// Maps the locator's refusal to a problem when kustomize would reject the
/// file too, and to a note when only kustomerge's model is too narrow.
pub(super) fn unparsed(file: &str, src: &str, e: &kustomization::Error, report: &mut Report) {
    let at = (e.line, e.column);
    // What the locator stopped at: an anchor, alias or tag is fine to
    // kustomize, a scalar or nested collection where a list or an entry's
    // string belongs is not.
    let token = src
        .split('\n')
        .nth(e.line.saturating_sub(1))
        .and_then(|l| l.chars().nth(e.column.saturating_sub(1)));
    let aliased = matches!(token, Some('&' | '*' | '!'));
    let code = match e.kind {
        ErrorKind::Syntax => Some("yaml-error"),
        ErrorKind::MultipleDocuments => Some("multiple-documents"),
        ErrorKind::NotAMapping => Some("not-a-mapping"),
        ErrorKind::DuplicateKey => Some("duplicate-key"),
        ErrorKind::KeyCase => Some("key-case"),
        ErrorKind::Structure if !aliased => Some("invalid-structure"),
        _ => None,
    };
    match code {
        // The locator's hint for these speaks of kustomerge's model; the
        // fix kustomize needs is about the structure itself.
        Some(code @ "invalid-structure") => report.problem(
            file,
            at,
            code,
            format!("{}; kustomize fails to decode it", e.message),
            "write entries as mappings (`- name: nginx` plus `newTag: ...` lines) whose fields hold plain strings".to_owned(),
        ),
        Some(code) => {
            report.problem(file, at, code, e.message.clone(), e.hint.clone());
            if e.kind == ErrorKind::KeyCase
                && let Some((range, name)) = key_case_fix(src, at)
            {
                report.fixable(range, name);
            }
        }
        // Unknown refusals are notes too: blocking a push on a file
        // kustomize accepts would be worse than missing a lint.
        None => report.note(
            file,
            at,
            format!(
                "{}: kustomize accepts this, but kustomerge can't look inside; the rest of the file was not checked",
                e.message
            ),
        ),
    }
}

/// A file of another tool under a kustomization name (a Flux
/// `Kustomization`, say) is noted and not checked.
pub(super) fn not_kustomize(file: &str, doc: &Document<'_>, report: &mut Report) -> bool {
    if let Some(api) = top_scalar(doc, "apiVersion")
        && api.contains('/')
        && !api.starts_with("kustomize.config.k8s.io/")
    {
        let at = doc
            .keys
            .iter()
            .find(|k| k.name == "apiVersion")
            .map_or(1, |k| k.line);
        report.note(
            file,
            (at, 1),
            format!("apiVersion `{api}` is not kustomize's (a Flux Kustomization?); not checked"),
        );
        return true;
    }
    false
}

/// A top-level scalar's value, unquoted (enough for `apiVersion`).
fn top_scalar(doc: &Document<'_>, key: &str) -> Option<String> {
    let k = doc.keys.iter().find(|k| k.name == key)?;
    let text = &doc.src[k.span.clone()];
    let value = text.split_once(':')?.1;
    let value = value.split(" #").next()?.trim();
    Some(value.trim_matches(['"', '\'']).to_owned())
}

pub(super) fn top_level_keys(file: &str, doc: &Document<'_>, report: &mut Report) {
    for key in &doc.keys {
        if meaning::top_level_fields().any(|k| k.eq_ignore_ascii_case(&key.name)) {
            continue;
        }
        let stem = |s: &str| s.to_ascii_lowercase().trim_end_matches('s').to_owned();
        let fix = match meaning::top_level_fields().find(|k| stem(k) == stem(&key.name)) {
            Some(k) => format!("did you mean `{k}:`?"),
            None => "remove it, or move it where it belongs".to_owned(),
        };
        report.problem(
            file,
            position(doc.src, key.span.start),
            "unknown-key",
            format!(
                "`{}:` is not a kustomization field; kustomize rejects the file",
                key.name
            ),
            fix,
        );
    }
}

/// The canonical spelling of the top-level list key at `(line, column)`
/// (`Images:` -> `images`), when it is written plain: its byte range and
/// the name.
fn key_case_fix(
    src: &str,
    (line, column): (usize, usize),
) -> Option<(std::ops::Range<usize>, String)> {
    let line_start = if line <= 1 {
        0
    } else {
        src.match_indices('\n').nth(line - 2)?.0 + 1
    };
    let start = line_start
        + src[line_start..]
            .char_indices()
            .nth(column.checked_sub(1)?)?
            .0;
    let len = src[start..].find(':')?;
    let key = &src[start..start + len];
    let canonical =
        meaning::top_level_fields().find(|k| k.eq_ignore_ascii_case(key) && *k != key)?;
    Some((start..start + len, canonical.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::super::tests::codes;
    use super::super::{Report, check_bytes};

    #[test]
    fn conflict_markers_are_found_before_parsing() {
        let src = "images:\n<<<<<<< ours\n- name: a\n=======\n- name: b\n>>>>>>> theirs\n";
        assert_eq!(
            codes(src),
            [
                (2, 1, "conflict-marker"),
                (4, 1, "conflict-marker"),
                (6, 1, "conflict-marker")
            ]
        );
        assert!(codes("patches:\n- patch: |\n    =======\n").is_empty());
    }

    #[test]
    fn what_kustomize_accepts_is_a_note_not_a_problem() {
        let mut report = Report::default();
        let src = "x: &tag v1\nimages:\n- name: a\n  newTag: *tag\n";
        check_bytes("k.yaml", src.as_bytes(), &mut report);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.notes.len(), 1);
        // ... but a scalar where an entry belongs is kustomize's error too.
        assert_eq!(codes("images:\n- nginx\n"), [(2, 3, "invalid-structure")]);
    }
}
