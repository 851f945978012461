//! `check --fix` on the real-world corpus: fixes are byte-exact outside the
//! fixed tokens, leave only what `check` says it couldn't fix, and don't
//! change what kustomize reads (the independent reader, `meaning::read`).

use kustomerge::lint::{Report, check_bytes, fix_bytes};
use kustomerge::meaning;

use crate::common::{Sandbox, corpus, data_files, stderr};

/// The corpus as it is: `--fix` has nothing to fix (it holds no unquoted
/// YAML 1.1 tags or misspelt case), so it changes no byte and leaves
/// exactly the problems `check` reports.
#[test]
fn the_corpus_as_it_is_is_left_byte_for_byte() {
    for path in data_files(&corpus().join("kustomize/files")) {
        let bytes = std::fs::read(&path).unwrap();
        let label = path.display().to_string();
        let (text, fixed, left) = fix_bytes(&label, &bytes);
        assert_eq!(text, None, "{label}");
        assert!(fixed.is_empty(), "{label}: {fixed:?}");
        let mut plain = Report::default();
        check_bytes(&label, &bytes, &mut plain);
        assert_eq!(left.problems, plain.problems, "{label}");
    }
}

/// What `--fix` can fix, put into each corpus file that has it to put:
/// `images:` as `Images:`, `newTag:` as `NewTag:`, `count:` as `Count:`,
/// and a double-quoted tag or name YAML 1.1 would read as a number or bool
/// unquoted. Only where the clean file has the spelling, and only in the
/// `images:` and `replicas:` blocks (`check` doesn't look into the
/// deprecated `imageTags:`), so that the fix of the broken file must give
/// back the clean file exactly.
fn break_file(src: &str) -> Option<String> {
    let mut out = String::with_capacity(src.len());
    let mut broke = false;
    let mut in_list = false;
    for line in src.split_inclusive('\n') {
        let mut line = line.to_owned();
        if line.starts_with(|c: char| c.is_ascii_alphabetic()) {
            in_list = line.starts_with("images:") || line.starts_with("replicas:");
        }
        if !in_list {
            out.push_str(&line);
            continue;
        }
        if line.starts_with("images:") {
            line.replace_range(0..1, "I");
            broke = true;
        }
        for (key, upper) in [("newTag: ", "NewTag: "), ("count: ", "Count: ")] {
            if let Some(at) = line.find(key)
                && line[..at]
                    .trim_start_matches(' ')
                    .trim_start_matches("- ")
                    .is_empty()
            {
                line.replace_range(at..at + key.len(), upper);
                broke = true;
            }
        }
        for key in ["ewTag: \"", "ame: \"", "igest: \""] {
            let Some(at) = line.find(key) else { continue };
            let start = at + key.len();
            let Some(len) = line[start..].find('"') else {
                continue;
            };
            let value = &line[start..start + len];
            let rest = &line[start + len + 1..];
            let plain_ok = rest.trim_end().is_empty() || rest.starts_with(" #");
            if plain_ok
                && !value.is_empty()
                && !value.contains('\\')
                && kustomerge::kustomization::edit::is_yaml11_non_string(value)
                && !matches!(
                    kustomerge::yaml11::resolve(value),
                    kustomerge::yaml11::Plain::Null
                )
            {
                line = format!("{}{value}{rest}", &line[..start - 1]);
                broke = true;
            }
        }
        out.push_str(&line);
    }
    broke.then_some(out)
}

#[test]
fn fixing_a_broken_corpus_file_gives_back_the_clean_file_and_its_meaning() {
    let (mut broken_files, mut fixed_problems, mut yaml11) = (0, 0, 0);
    for path in data_files(&corpus().join("kustomize/files")) {
        let clean = std::fs::read(&path).unwrap();
        let label = path.display().to_string();
        let Ok(src) = std::str::from_utf8(&clean) else {
            continue;
        };
        let mut before = Report::default();
        check_bytes(&label, &clean, &mut before);
        // Only files whose list keys and fields check looked at.
        if !before.problems.is_empty() || !before.notes.is_empty() {
            continue;
        }
        let Some(broken) = break_file(src) else {
            continue;
        };
        let mut seen = Report::default();
        check_bytes(&label, broken.as_bytes(), &mut seen);
        assert!(
            !seen.problems.is_empty(),
            "{label}: the break went unseen\n{broken}"
        );
        broken_files += 1;

        let (text, fixed, left) = fix_bytes(&label, broken.as_bytes());
        assert!(
            text.as_deref() == Some(src),
            "{label}: not the clean file\n{broken}"
        );
        assert!(left.problems.is_empty(), "{label}: {:?}", left.problems);
        assert!(
            fixed
                .iter()
                .all(|p| ["key-case", "field-case", "yaml11-scalar"].contains(&p.code)),
            "{label}: {fixed:?}"
        );
        fixed_problems += fixed.len();
        yaml11 += fixed.iter().filter(|p| p.code == "yaml11-scalar").count();
        // What kustomize reads: the same images and replicas, field for
        // field, where the clean file is readable (a broken file with an
        // unquoted `1.10` is not: kustomize fails on it).
        if let Ok(want) = meaning::read(&clean) {
            let text = text.unwrap();
            let got = meaning::read(text.as_bytes()).unwrap();
            assert_eq!(got, want, "{label}");
            assert_eq!(
                got.fields.get("images"),
                want.fields.get("images"),
                "{label}"
            );
            if let Ok(b) = meaning::read(broken.as_bytes()) {
                assert_eq!(b, want, "{label}: a case-only break reads the same");
            }
        }
    }
    eprintln!(
        "{broken_files} corpus files broken and fixed: {fixed_problems} fixes, {yaml11} of them quoting"
    );
    // The corpus must exercise each kind of fix, or the test proves little.
    assert!(broken_files >= 50, "only {broken_files} files broken");
    assert!(yaml11 >= 5, "only {yaml11} yaml11 fixes");
    assert!(fixed_problems > broken_files, "{fixed_problems}");
}

#[test]
fn check_fix_writes_only_the_fixed_tokens_and_reports_what_is_left() {
    let sb = Sandbox::new();
    let dir = sb.path().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    let src = "Images:\r\n- name: api\r\n  NewTag: 1.10 # pinned\r\n  digest: sha256:abc\r\n- name: web\r\n  newTag: yes\r\n  newName: ~\r\nreplicas:\r\n- name: web\r\n  Count: 3";
    std::fs::write(dir.join("kustomization.yaml"), src).unwrap();
    let out = sb.kustomerge(sb.path(), &["check", "--fix", "--format", "json", "app"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let left: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["malformed-digest"]);
    let fixed: Vec<(u64, &str)> = v["fixed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_u64().unwrap(), p["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fixed,
        [
            (1, "key-case"),
            (3, "field-case"),
            (3, "yaml11-scalar"),
            (6, "yaml11-scalar"),
            (10, "field-case")
        ]
    );
    // CRLF, the comment, the null and the missing final newline are kept.
    assert_eq!(
        std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap(),
        "images:\r\n- name: api\r\n  newTag: \"1.10\" # pinned\r\n  digest: sha256:abc\r\n- name: web\r\n  newTag: \"yes\"\r\n  newName: ~\r\nreplicas:\r\n- name: web\r\n  count: 3"
    );
    // A second run has nothing left to fix and writes nothing.
    let again = sb.kustomerge(sb.path(), &["check", "--fix", "app"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("1 file(s) checked, 0 fixed, 1 problem(s)"),
        "{}",
        stderr(&again)
    );
    // Without --fix the JSON shape is what it was: no `fixed` key.
    let plain = sb.kustomerge(sb.path(), &["check", "--format", "json", "app"]);
    let v: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(v.get("fixed").is_none(), "{v}");
}

#[test]
fn check_fix_leaves_a_file_it_cannot_parse_alone() {
    let sb = Sandbox::new();
    let dir = sb.path().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    let src =
        "images:\n<<<<<<< ours\n- name: a\n  NewTag: 1.10\n=======\n- name: b\n>>>>>>> theirs\n";
    std::fs::write(dir.join("kustomization.yaml"), src).unwrap();
    let out = sb.kustomerge(sb.path(), &["check", "--fix", "app"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap(),
        src
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("[conflict-marker]")
            .count(),
        3
    );
    let out = sb.kustomerge(
        sb.path(),
        &["check", "--fix", "--pre-push", "origin", "url"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Every list of strings in a corpus file with its last item written again
/// on the next line: `check` reports each repeat, and `--fix` deletes
/// exactly the copies, giving back the file byte for byte.
#[test]
fn a_repeated_item_in_a_corpus_file_is_fixed_back_to_the_file() {
    let (mut files, mut repeats) = (0, 0);
    for path in data_files(&corpus().join("kustomize/files")) {
        let clean = std::fs::read(&path).unwrap();
        let label = path.display().to_string();
        let mut before = Report::default();
        check_bytes(&label, &clean, &mut before);
        if !before.problems.is_empty() || !before.notes.is_empty() {
            continue;
        }
        let src = std::str::from_utf8(&clean).unwrap();
        let lists = kustomerge::kustomization::items::item_lists(src).unwrap();
        let repeated = [
            "resources",
            "bases",
            "components",
            "crds",
            "configurations",
            "generators",
            "transformers",
            "validators",
        ];
        let mut copies: Vec<(usize, String)> = lists
            .iter()
            .filter(|(key, _)| repeated.contains(key))
            .filter_map(|(_, list)| {
                let last = list.as_ref()?.items.last()?;
                let start = src[..last.span.end].rfind('\n').map_or(0, |i| i + 1);
                let line = &src[start..last.span.end];
                let eol = if src[..start].ends_with("\r\n") {
                    "\r\n"
                } else {
                    "\n"
                };
                Some((last.span.end, format!("{eol}{line}")))
            })
            .collect();
        if copies.is_empty() {
            continue;
        }
        copies.sort();
        let mut broken = src.to_owned();
        for (at, copy) in copies.iter().rev() {
            broken.insert_str(*at, copy);
        }
        let (text, fixed, left) = fix_bytes(&label, broken.as_bytes());
        assert_eq!(text.as_deref(), Some(src), "{label}\n{broken}");
        assert!(left.problems.is_empty(), "{label}: {:?}", left.problems);
        assert_eq!(fixed.len(), copies.len(), "{label}: {fixed:?}");
        assert!(
            fixed.iter().all(|p| p.code == "duplicate-item"),
            "{label}: {fixed:?}"
        );
        files += 1;
        repeats += copies.len();
    }
    eprintln!("{files} corpus files with {repeats} repeated items fixed back");
    assert!(files >= 100, "only {files} files");
}
