//! `set-image` / `set-replicas`: kustomize's values, our bytes.
//!
//! - kustomize's own `TestSetImage` / `TestSetReplicas` cases, through the
//!   binary, compared on entry *values* (kustomize sorts and re-serialises;
//!   kustomerge deliberately doesn't).
//! - Byte-exact fixtures: `fixtures/set-image/<case>/{input.yaml,args,expected.yaml}`
//!   (`args` holds the command line, one word per line; an optional `status`
//!   file holds the expected exit code).
//! - Every image entry of the real-world corpus, bumped in-process: only that
//!   scalar's bytes may change. The Flux setter corpus, through the binary:
//!   markers survive.
//! - `kubectl kustomize` builds an edited overlay with the new image.
//! - Guards leave the file untouched (same inode, same mtime); `--commit`
//!   records trailers that `reapply` replays.

use std::path::{Path, PathBuf};

use kustomerge::edit::{Reapplied, reapply};
use kustomerge::kustomization::edit::{scalar_token, splice};
use kustomerge::kustomization::image_arg::parse_images;
use kustomerge::kustomization::schema::IMAGES;
use kustomerge::kustomization::setter;
use kustomerge::kustomization::{Document, Style, decode};
use kustomerge::trailer::Edit;
use serde_json::Value;

use crate::common::{Sandbox, corpus, data_files, fixtures, stderr};

fn docs() -> PathBuf {
    fixtures().join("upstream")
}

/// The list's entries as sorted `key=value` lines, for comparing values only.
fn entries_of(text: &str, list: &str, keys: &[&str]) -> Result<Vec<String>, String> {
    let doc = Document::parse(text).map_err(|e| e.to_string())?;
    let mut out: Vec<String> = doc
        .list(list)
        .map(|l| {
            l.entries
                .iter()
                .map(|e| {
                    keys.iter()
                        .map(|k| format!("{k}={}", e.read(text, k).unwrap_or("")))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    Ok(out)
}

fn expected_of(case: &Value, list: &str, keys: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = case[format!("expected_{list}")]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            keys.iter()
                .map(|k| match &e[*k] {
                    Value::String(s) => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    out.sort();
    out
}

/// Runs one upstream vector file through the binary; returns the failures.
fn run_vectors(file: &str, command: &str, list: &str, keys: &[&str]) -> (usize, Vec<String>) {
    let path = docs().join(file);
    let json = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("test data {} is missing: {e}", path.display()));
    let json: Value = serde_json::from_str(&json).unwrap();
    let cases = json["cases"].as_array().unwrap();
    let sb = Sandbox::new();
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        let dir = sb.path().join(format!("case{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("kustomization.yaml");
        std::fs::write(&file, case["input"].as_str().unwrap()).unwrap();
        let mut args = vec![command.to_owned()];
        args.extend(
            case["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned()),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = sb.kustomerge(&dir, &args);
        let err = stderr(&out);
        if let Some(want) = case["expected_error"].as_str() {
            // With no argument at all clap stops first (exit 2, its own
            // wording); every other error must carry kustomize's.
            let worded = args.len() == 1 || err.contains(want);
            if out.status.code() != Some(2) || !worded {
                failures.push(format!(
                    "{name}: want error {want:?}, got {:?}: {err}",
                    out.status.code()
                ));
            }
            continue;
        }
        if out.status.code() != Some(0) {
            failures.push(format!("{name}: exit {:?}: {err}", out.status.code()));
            continue;
        }
        let got = entries_of(&std::fs::read_to_string(&file).unwrap(), list, keys);
        let want = expected_of(case, list, keys);
        if got.as_ref() != Ok(&want) {
            failures.push(format!("{name}: got {got:?}, want {want:?}"));
        }
    }
    (cases.len(), failures)
}

#[test]
fn upstream_set_image_and_set_replicas_vectors_pass_through_the_cli() {
    let (n_img, mut failures) = run_vectors(
        "setimage-vectors-upstream.json",
        "set-image",
        "images",
        &["name", "newName", "newTag", "digest"],
    );
    let (n_rep, rep_failures) = run_vectors(
        "setreplicas-vectors-upstream.json",
        "set-replicas",
        "replicas",
        &["name", "count"],
    );
    failures.extend(rep_failures);
    eprintln!(
        "upstream vectors: {} of {}",
        n_img + n_rep - failures.len(),
        n_img + n_rep
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn fixtures_give_the_expected_bytes() {
    let root = fixtures().join("set-image");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 20,
        "expected the fixture cases in {}",
        root.display()
    );
    let sb = Sandbox::new();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let dir = sb.path().join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let input = std::fs::read(case.join("input.yaml")).unwrap();
        std::fs::write(dir.join("kustomization.yaml"), &input).unwrap();
        let args = std::fs::read_to_string(case.join("args")).unwrap();
        let args: Vec<&str> = args.lines().filter(|l| !l.is_empty()).collect();
        let want_status: i32 =
            std::fs::read_to_string(case.join("status")).map_or(0, |s| s.trim().parse().unwrap());
        let out = sb.kustomerge(&dir, &args);
        let got = std::fs::read(dir.join("kustomization.yaml")).unwrap();
        let want = std::fs::read(case.join("expected.yaml")).unwrap();
        if out.status.code() != Some(want_status) {
            failures.push(format!(
                "{name}: exit {:?}, want {want_status}: {}",
                out.status.code(),
                stderr(&out)
            ));
        } else if got != want {
            failures.push(format!(
                "{name}: bytes differ\n--- got\n{}\n--- want\n{}",
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// The bytes a tag bump of entry `i` must give: the `newTag` scalar replaced
/// in its own quote style, and nothing else.
fn expected_bump(src: &str, doc: &Document<'_>, i: usize, tag: &str) -> Option<String> {
    let list = doc.list("images")?;
    let f = list.entries[i]
        .fields
        .iter()
        .find(|f| f.key(src).eq_ignore_ascii_case("newTag"))?;
    let flow = list.style == Style::Flow
        || src[list.entries[i].start..]
            .trim_start_matches(['-', ' '])
            .starts_with('{');
    let token = scalar_token(tag, Some(&src[f.value_span()]), flow);
    Some(splice(src, vec![(f.value_span(), token)]))
}

#[test]
fn bumping_each_corpus_image_changes_only_that_scalar() {
    let files = data_files(&corpus().join("kustomize/files"));
    let (mut exact, mut inserted, mut refused) = (0, 0, 0);
    let mut failures = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let Ok(src) = decode(&bytes) else { continue };
        let Ok(doc) = Document::parse(src) else {
            continue;
        };
        let Some(list) = doc.list("images") else {
            continue;
        };
        for (i, entry) in list.entries.iter().enumerate() {
            let name = entry.read_name(src);
            let first = list.entries.iter().position(|e| e.read_name(src) == name) == Some(i);
            // Only the first entry of a name is addressable (kustomize's
            // rule), `=` can't be written in a name, and a touched entry
            // loses its `tagSuffix` by design (checked in the fixtures).
            if name.is_empty()
                || name.contains('=')
                || !first
                || entry.read(src, "tagSuffix").is_some()
            {
                continue;
            }
            // Alternate between a plain tag and one YAML 1.1 reads as a number.
            let tag = if i % 2 == 0 { "9.9.9-probe" } else { "1.10" };
            let arg = format!("{name}=*:{tag}@*");
            let reps: Vec<_> = parse_images(&[arg])
                .unwrap()
                .iter()
                .map(|a| a.replacement())
                .collect();
            let at = format!(
                "{}#{i} ({name})",
                file.file_name().unwrap().to_string_lossy()
            );
            let unknown = entry.fields.iter().any(|f| {
                !IMAGES
                    .fields
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(f.key(src)))
            });
            let got = match setter::apply(&doc, &IMAGES, &reps) {
                Ok(a) => a.text,
                Err(e) if unknown => {
                    assert!(e.message.contains("is not a field"), "{at}: {e}");
                    refused += 1;
                    continue;
                }
                Err(e) => {
                    failures.push(format!("{at}: refused: {e}"));
                    continue;
                }
            };
            match expected_bump(src, &doc, i, tag) {
                Some(want) if got == want => exact += 1,
                Some(_) => failures.push(format!("{at}: more than the newTag scalar changed")),
                None => {
                    // No `newTag` yet: one line is added inside the entry and
                    // everything outside it is untouched.
                    let (start, end) = (entry.span.start, entry.span.end);
                    let tail = &src[end..];
                    let ok = got.starts_with(&src[..start])
                        && got.ends_with(tail)
                        && entries_of(&got, "images", &["name", "newTag"])
                            .is_ok_and(|v| v.contains(&format!("name={name} newTag={tag}")));
                    if ok {
                        inserted += 1;
                    } else {
                        failures.push(format!("{at}: bytes outside the entry changed"));
                    }
                }
            }
        }
    }
    eprintln!(
        "corpus bumps: {exact} exact, {inserted} inserted, {refused} refused (unknown fields)"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(exact > 500, "too few entries checked: {exact}");
}

#[test]
fn flux_setter_markers_survive_a_bump() {
    let dir = corpus().join("flux-setters");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv"))
        .unwrap_or_else(|e| panic!("test data {} is missing: {e}", dir.display()));
    let sb = Sandbox::new();
    let (mut checked, mut refused) = (0, 0);
    for row in manifest.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        if !cols[6].contains("kustomization-images") {
            continue;
        }
        let src_path = std::fs::read_dir(dir.join("files"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_stem().unwrap() == cols[0])
            .unwrap();
        let src = std::fs::read_to_string(&src_path).unwrap();
        let doc = Document::parse(&src).unwrap();
        let list = doc.list("images").unwrap();
        for (i, entry) in list.entries.iter().enumerate() {
            let Some(want) = expected_bump(&src, &doc, i, "7.7.7") else {
                continue;
            };
            let work = sb.path().join(format!("{}-{i}", cols[0]));
            std::fs::create_dir_all(&work).unwrap();
            std::fs::write(work.join("kustomization.yaml"), &src).unwrap();
            let arg = format!("{}=*:7.7.7@*", entry.read_name(&src));
            let out = sb.kustomerge(&work, &["set-image", &arg]);
            let got = std::fs::read_to_string(work.join("kustomization.yaml")).unwrap();
            // Flux's own test data uses `newDigest`, which kustomize rejects
            // ("not intended to be a working kustomization"): refused, untouched.
            if entry.field(&src, "newDigest").is_some() {
                assert_eq!(out.status.code(), Some(2), "{}", cols[0]);
                assert!(
                    stderr(&out).contains("did you mean `digest`?"),
                    "{}",
                    stderr(&out)
                );
                assert_eq!(got, src);
                refused += 1;
                continue;
            }
            assert_eq!(out.status.code(), Some(0), "{}: {}", cols[0], stderr(&out));
            assert_eq!(got, want, "{} entry {i}", cols[0]);
            assert_eq!(
                got.matches("$imagepolicy").count(),
                src.matches("$imagepolicy").count()
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 7 && refused >= 2,
        "{checked} marked entries bumped, {refused} refused"
    );
}

#[test]
fn kubectl_kustomize_builds_the_edited_overlay() {
    if !crate::common::kubectl_available() {
        return;
    }
    let sb = Sandbox::new();
    let base = sb.path().join("base");
    let overlay = sb.path().join("overlay");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(
        base.join("deployment.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n    spec:\n      containers:\n      - name: app\n        image: example/app:1.0\n      - name: sidecar\n        image: example/sidecar:2.0\n",
    )
    .unwrap();
    std::fs::write(
        base.join("kustomization.yaml"),
        "resources:\n- deployment.yaml\n",
    )
    .unwrap();
    std::fs::write(
        overlay.join("kustomization.yaml"),
        "resources:\n  - ../base\nimages:\n  - name: example/app # {\"$imagepolicy\": \"flux-system:app\"}\n    newName: registry.example.com/app\n    newTag: \"1.9\" # {\"$imagepolicy\": \"flux-system:app:tag\"}\n",
    )
    .unwrap();
    let set = |args: &[&str]| {
        let out = sb.kustomerge(&overlay, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    };
    set(&["set-image", "example/app=*:1.10"]);
    set(&[
        "set-image",
        "example/sidecar@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ]);
    set(&["set-replicas", "app=3"]);
    let out = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(&overlay)
        .output()
        .unwrap();
    let built = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kubectl kustomize failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        built.contains("image: registry.example.com/app:1.10\n"),
        "{built}"
    );
    assert!(
        built.contains("image: example/sidecar@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
        "{built}"
    );
    assert!(built.contains("replicas: 3"), "{built}");
    let file = std::fs::read_to_string(overlay.join("kustomization.yaml")).unwrap();
    assert!(
        file.contains("newTag: \"1.10\" # {\"$imagepolicy\": \"flux-system:app:tag\"}"),
        "{file}"
    );
}

/// (inode, mtime): an atomic rewrite always changes the inode.
fn identity(path: &Path) -> (u64, std::time::SystemTime) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).unwrap();
    (m.ino(), m.modified().unwrap())
}

#[test]
fn guards_and_no_ops_leave_the_file_untouched() {
    let sb = Sandbox::new();
    let file = sb.path().join("kustomization.yaml");
    std::fs::write(&file, "images:\n- name: app\n  newTag: v1.10.0\n").unwrap();
    let before = identity(&file);
    let cases: [(&[&str], i32, &str); 5] = [
        (
            &["set-image", "--no-downgrade", "app:v1.9.0"],
            0,
            "skipped: `app` v1.9.0 is older than v1.10.0",
        ),
        (
            &["set-image", "--expect", "v1.9.0", "app:v1.11.0"],
            3,
            "--expect",
        ),
        (&["set-image", "app:v1.10.0"], 0, "already set"),
        (&["set-image", "nginx"], 2, "invalid format of image"),
        (&["set-replicas", "app=x"], 2, "invalid format of replica"),
    ];
    for (args, code, message) in cases {
        let out = sb.kustomerge(sb.path(), args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert_eq!(identity(&file), before, "{args:?} rewrote the file");
    }
    // Incomparable tags are allowed: --no-downgrade guards version order only.
    let out = sb.kustomerge(
        sb.path(),
        &[
            "set-image",
            "--no-downgrade",
            "--expect",
            "v1.10.0",
            "app:abc1234",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_ne!(identity(&file).0, before.0);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "images:\n- name: app\n  newTag: abc1234\n"
    );
}

#[test]
fn the_file_is_found_like_kustomize_finds_it() {
    let sb = Sandbox::new();
    let dir = sb.path().join("ov");
    std::fs::create_dir_all(&dir).unwrap();
    let out = sb.kustomerge(sb.path(), &["set-image", "-f", "ov", "app:1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no kustomization file"),
        "{}",
        stderr(&out)
    );
    std::fs::write(dir.join("Kustomization"), "resources: []\n").unwrap();
    let out = sb.kustomerge(&dir, &["set-image", "app:1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        std::fs::read_to_string(dir.join("Kustomization"))
            .unwrap()
            .ends_with("images:\n- name: app\n  newTag: \"1\"\n")
    );
    std::fs::write(dir.join("kustomization.yml"), "resources: []\n").unwrap();
    let out = sb.kustomerge(sb.path(), &["set-image", "-f", "ov", "app:2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("several kustomization files"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unmodellable_file_is_refused_with_its_position() {
    let sb = Sandbox::new();
    let file = sb.path().join("kustomization.yaml");
    std::fs::write(&file, "images:\n- name: app\n  newTag: *tag\n").unwrap();
    let before = identity(&file);
    let out = sb.kustomerge(sb.path(), &["set-image", "app:v2"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("kustomization.yaml:3:"), "{err}");
    assert_eq!(identity(&file), before);
}

#[test]
fn commit_records_trailers_that_reapply_replays() {
    let sb = Sandbox::new();
    let repo = sb.repo("gitops");
    sb.commit_file(
        &repo,
        "apps/prod/kustomization.yaml",
        b"images:\n- name: app\n  newTag: 1.0.0\n",
        "init",
    );
    // Something unrelated is staged: --commit must not sweep it in.
    std::fs::write(repo.join("notes.txt"), "wip\n").unwrap();
    sb.git(&repo, &["add", "notes.txt"]);
    let out = sb.kustomerge(
        &repo.join("apps"),
        &[
            "set-image",
            "-f",
            "prod",
            "--commit",
            "app:1.1.0",
            "web=reg/web:2",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let message = sb.git(&repo, &["log", "-1", "--format=%B"]);
    assert_eq!(
        message,
        "kustomerge: set image app:1.1.0 web=reg/web:2 in apps/prod/kustomization.yaml\n\n\
         Kustomerge-Set-Image: apps/prod/kustomization.yaml app:1.1.0\n\
         Kustomerge-Set-Image: apps/prod/kustomization.yaml web=reg/web:2\n\n"
    );
    let trailers = sb.git(
        &repo,
        &[
            "log",
            "-1",
            "--format=%(trailers:key=Kustomerge-Set-Image,valueonly)",
        ],
    );
    assert_eq!(trailers.lines().filter(|l| !l.is_empty()).count(), 2);
    assert_eq!(
        sb.git(&repo, &["show", "--name-only", "--format=", "HEAD"]),
        "apps/prod/kustomization.yaml\n"
    );
    assert_eq!(
        sb.git(&repo, &["diff", "--cached", "--name-only"]),
        "notes.txt\n"
    );

    // Only the last argument per name is recorded: it alone took effect.
    let out = sb.kustomerge(
        &repo,
        &[
            "set-image",
            "-f",
            "apps/prod",
            "--commit",
            "app:1.1.1",
            "app:1.1.2",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let trailers = sb.git(
        &repo,
        &[
            "log",
            "-1",
            "--format=%(trailers:key=Kustomerge-Set-Image,valueonly)",
        ],
    );
    assert_eq!(
        trailers.trim_end(),
        "apps/prod/kustomization.yaml app:1.1.2"
    );

    let out = sb.kustomerge(
        &repo,
        &[
            "set-replicas",
            "-f",
            "apps/prod",
            "--commit",
            "-m",
            "scale app",
            "app=3",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        sb.git(&repo, &["log", "-1", "--format=%B"]),
        "scale app\n\nKustomerge-Set-Replicas: apps/prod/kustomization.yaml app=3\n\n"
    );

    // A fresh tip where someone else moved on: reapply what the trailers say.
    let file = repo.join("apps/prod/kustomization.yaml");
    std::fs::write(
        &file,
        "images:\n- name: app\n  newTag: 1.0.0\n- name: other\n  newTag: \"5\"\n",
    )
    .unwrap();
    let path = "apps/prod/kustomization.yaml";
    let edit = |key: &str, value: &str| Edit {
        key: key.to_owned(),
        value: value.to_owned(),
    };
    assert_eq!(
        reapply(
            &repo,
            &edit("Kustomerge-Set-Image", &format!("{path} app:1.1.0")),
            true,
            true
        )
        .unwrap(),
        Reapplied::Changed
    );
    assert_eq!(
        reapply(
            &repo,
            &edit("kustomerge-set-image", &format!("{path} app:1.1.0")),
            true,
            true
        )
        .unwrap(),
        Reapplied::AlreadySet
    );
    assert_eq!(
        reapply(
            &repo,
            &edit("Kustomerge-Set-Image", &format!("{path} app:1.0.5")),
            true,
            true
        )
        .unwrap(),
        Reapplied::SkippedNewer("`app` 1.0.5 is older than 1.1.0".to_owned())
    );
    assert_eq!(
        reapply(
            &repo,
            &edit("Kustomerge-Set-Replicas", &format!("{path} app=3")),
            false,
            true
        )
        .unwrap(),
        Reapplied::Changed
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "images:\n- name: app\n  newTag: 1.1.0\n- name: other\n  newTag: \"5\"\nreplicas:\n- name: app\n  count: 3\n"
    );
    assert!(reapply(&repo, &edit("Signed-off-by", "x y"), false, true).is_err());
}
