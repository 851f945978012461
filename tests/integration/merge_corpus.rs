//! The real kustomization files in `fixtures/corpus/kustomize/files`.
//!
//! - merge(x, x, x) = x byte for byte, through the binary.
//! - On every file with an `images:` list kustomerge can model, generated
//!   disjoint concurrent edits (a bump against an append, two bumps, a bump
//!   against a removal, a bump against a new digest) must give the exact
//!   bytes of both edits applied by hand.
//! - Where only text outside the lists changes on both sides, the result must
//!   equal `git merge-file`'s.

use std::path::PathBuf;

use kustomerge::kustomization::edit::{scalar_token, splice};
use kustomerge::kustomization::{Document, Style};
use kustomerge::merge::{self, Options};

use crate::common::{Sandbox, corpus, data_files, git_merge_file};

fn corpus_files() -> Vec<PathBuf> {
    data_files(&corpus().join("kustomize/files"))
}

#[test]
fn identical_inputs_give_the_file_back_byte_for_byte() {
    let files = corpus_files();
    let sb = Sandbox::new();
    for file in &files {
        let cur = sb.path().join("current");
        std::fs::copy(file, &cur).unwrap();
        let out = sb.kustomerge(
            sb.path(),
            &[
                "merge",
                file.to_str().unwrap(),
                "current",
                file.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", file.display());
        assert_eq!(
            std::fs::read(&cur).unwrap(),
            std::fs::read(file).unwrap(),
            "{}",
            file.display()
        );
    }
}

/// One generated edit: replacement spans on the base text.
type Edit = Vec<(std::ops::Range<usize>, String)>;

fn bump(src: &str, doc: &Document<'_>, index: usize, tag: &str) -> Option<Edit> {
    let entry = &doc.list("images")?.entries[index];
    let f = entry.field(src, "newTag")?;
    let flow = matches!(doc.list("images")?.style, Style::Flow);
    Some(vec![(
        f.value_span(),
        scalar_token(tag, Some(&src[f.value_span()]), flow),
    )])
}

fn append(doc: &Document<'_>) -> Option<Edit> {
    let list = doc.list("images")?;
    let last = list.entries.last()?;
    let eol = doc.eol.as_str();
    Some(match list.style {
        Style::Block { dash_col, key_col } => {
            let pad = " ".repeat(key_col);
            let dash = format!(
                "{}-{}",
                " ".repeat(dash_col),
                " ".repeat(key_col - dash_col - 1)
            );
            let text = format!("{eol}{dash}name: kustomerge-probe{eol}{pad}newTag: 9.9.9");
            vec![(last.span.end..last.span.end, text)]
        }
        Style::Flow => vec![(
            last.span.end..last.span.end,
            ", {name: kustomerge-probe, newTag: 9.9.9}".into(),
        )],
        Style::Empty => return None,
    })
}

fn remove_last(doc: &Document<'_>) -> Option<Edit> {
    let list = doc.list("images")?;
    let [.., prev, last] = list.entries.as_slice() else {
        return None;
    };
    let start = match list.style {
        Style::Flow => prev.span.end,
        _ => last.span.start - doc.eol.as_str().len(),
    };
    Some(vec![(start..last.span.end, String::new())])
}

fn set_digest(src: &str, doc: &Document<'_>, index: usize) -> Option<Edit> {
    let entry = &doc.list("images")?.entries[index];
    let f = entry.field(src, "digest")?;
    let new = format!("sha256:{}", "e".repeat(64));
    Some(vec![(
        f.value_span(),
        scalar_token(&new, Some(&src[f.value_span()]), false),
    )])
}

#[test]
fn disjoint_concurrent_edits_on_real_files_give_the_exact_bytes() {
    let opts = Options::default();
    let (mut files_with_images, mut cases, mut failures) = (0, 0, Vec::new());
    for file in corpus_files() {
        let bytes = std::fs::read(&file).unwrap();
        let Ok(src) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let Ok(doc) = Document::parse(src) else {
            continue;
        };
        let Some(list) = doc.list("images") else {
            continue;
        };
        // A file kustomize refuses (0065.yaml's `newDigest:`) is never merged
        // structurally: nothing could vouch for the result.
        if kustomerge::meaning::read(&bytes).is_err() {
            continue;
        }
        let names: Vec<_> = list.entries.iter().map(|e| e.name(src)).collect();
        if list.entries.is_empty()
            || names.iter().any(Option::is_none)
            || (1..names.len()).any(|i| names[..i].contains(&names[i]))
        {
            continue;
        }
        files_with_images += 1;
        let n = list.entries.len();
        let shapes: Vec<(&str, Option<Edit>, Option<Edit>)> = vec![
            ("bump vs append", bump(src, &doc, 0, "7.7.7"), append(&doc)),
            (
                "bump first vs bump last",
                bump(src, &doc, 0, "7.7.7"),
                (n > 1).then(|| bump(src, &doc, n - 1, "8.8.8")).flatten(),
            ),
            (
                "bump first vs remove last",
                (n > 2).then(|| bump(src, &doc, 0, "7.7.7")).flatten(),
                remove_last(&doc),
            ),
            (
                "digest vs bump other",
                (0..n).find_map(|i| set_digest(src, &doc, i)),
                None,
            ),
        ];
        for (shape, a, b) in shapes {
            let (a, b) = match (a, b) {
                (Some(a), Some(b)) => (a, b),
                (Some(a), None) if shape.starts_with("digest") => {
                    // Bump a different entry than the one whose digest moved.
                    let di = (0..n)
                        .find(|&i| set_digest(src, &doc, i).is_some())
                        .unwrap();
                    match (0..n)
                        .filter(|&i| i != di)
                        .find_map(|i| bump(src, &doc, i, "6.6.6"))
                    {
                        Some(b) => (a, b),
                        None => continue,
                    }
                }
                _ => continue,
            };
            cases += 1;
            let current = splice(src, a.clone());
            let other = splice(src, b.clone());
            let want = splice(src, a.into_iter().chain(b).collect());
            for (label, cur, oth) in [("", &current, &other), (" (swapped)", &other, &current)] {
                let out = merge::merge(&bytes, cur.as_bytes(), oth.as_bytes(), &opts).unwrap();
                if out.conflicts != 0 || out.fallback.is_some() || out.bytes != want.as_bytes() {
                    failures.push(format!(
                        "{}: {shape}{label}: conflicts={} fallback={:?}",
                        file.display(),
                        out.conflicts,
                        out.fallback
                    ));
                }
            }
        }
    }
    eprintln!("{files_with_images} files with images, {cases} generated edit shapes");
    assert!(cases > 300, "only {cases} generated cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn edits_outside_the_lists_merge_exactly_like_git_merge_file() {
    let sb = Sandbox::new();
    let opts = Options::default();
    let mut compared = 0;
    for file in corpus_files() {
        let bytes = std::fs::read(&file).unwrap();
        let Ok(src) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if Document::parse(src).is_err() || !src.ends_with('\n') {
            continue;
        }
        let eol = if src.contains("\r\n") { "\r\n" } else { "\n" };
        let current = format!("# edited upstream{eol}{src}");
        let other = format!("{src}# edited by the job{eol}");
        let out = merge::merge(&bytes, current.as_bytes(), other.as_bytes(), &opts).unwrap();
        let (git, git_code) =
            git_merge_file(&sb, [src.as_bytes(), current.as_bytes(), other.as_bytes()]);
        assert_eq!(out.bytes, git, "{}", file.display());
        assert_eq!(out.conflicts, git_code as usize, "{}", file.display());
        compared += 1;
    }
    if compared > 0 {
        assert!(compared > 300, "only {compared} files compared");
    }
}
