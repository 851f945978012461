//! The driver's command line as git builds it from the registered line
//! (issue 11): no path or label starting with `-` is read as an option, git's
//! own conflict labels reach the markers, and `%L` stays in a sane range.

use std::fs;
use std::path::PathBuf;

use crate::common::{BASE, Sandbox, both_appended, diverge, git_passes_labels, stderr, with_image};

/// The overlay path git passes as `%P` in the git tests.
const DASHED: &str = "-prod/kustomization.yaml";

/// Runs `kustomerge merge ARGS` on [`conflicting_inputs`], requires exit 1
/// (one conflict), and returns the marker lines of the result and stderr.
fn conflict(sb: &Sandbox, case: &str, args: &[&str]) -> (Vec<String>, String) {
    let dir = conflicting_inputs(sb, case);
    let out = sb
        .kustomerge_cmd(&dir)
        .arg("merge")
        .args(args)
        .output()
        .unwrap();
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{case}: {said}");
    let result = fs::read_to_string(dir.join("a")).unwrap();
    (marker_lines(&result), said)
}

/// A folder holding `o`, `a` and `b`, where both sides set `web` to a
/// different version.
fn conflicting_inputs(sb: &Sandbox, case: &str) -> PathBuf {
    let dir = sb.path().join(case);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("o"), BASE).unwrap();
    fs::write(dir.join("a"), BASE.replace("2.0.0", "2.1.0")).unwrap();
    fs::write(dir.join("b"), BASE.replace("2.0.0", "2.2.0")).unwrap();
    dir
}

/// The conflict's marker lines, in order.
fn marker_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with(['<', '=', '>']))
        .map(str::to_owned)
        .collect()
}

const OURS_THEIRS: [&str; 3] = ["<<<<<<< ours", "=======", ">>>>>>> theirs"];

#[test]
fn after_double_dash_a_path_of_dash_x_is_the_path() {
    let sb = Sandbox::new();
    let (markers, said) = conflict(&sb, "dash_x", &["--", "o", "a", "b", "7", "-x"]);
    assert!(said.contains("kustomerge: -x: 1 conflict(s)"), "{said}");
    assert_eq!(markers, OURS_THEIRS);
}

/// Lines registered before `--` existed still merge a kustomization under a
/// `-` directory, and glued labels may start with `-`.
#[test]
fn dashed_paths_without_double_dash_and_dashed_labels_are_values() {
    let sb = Sandbox::new();
    let (_, said) = conflict(&sb, "old_line", &["o", "a", "b", "7", DASHED]);
    assert!(
        said.contains(&format!("kustomerge: {DASHED}: 1 conflict(s)")),
        "{said}"
    );
    let labels = ["--current-label=-ours", "--other-label=--theirs", "--"];
    let (markers, _) = conflict(
        &sb,
        "labels",
        &[&labels[..], &["o", "a", "b", "7", DASHED]].concat(),
    );
    assert_eq!(markers, ["<<<<<<< -ours", "=======", ">>>>>>> --theirs"]);
}

#[test]
fn a_percent_l_of_zero_writes_git_default_markers() {
    let sb = Sandbox::new();
    let (markers, _) = conflict(&sb, "zero", &["--", "o", "a", "b", "0", "k"]);
    assert_eq!(markers, OURS_THEIRS);
}

#[test]
fn a_huge_percent_l_is_capped_rather_than_aborting() {
    let sb = Sandbox::new();
    let (markers, said) = conflict(&sb, "huge", &["--", "o", "a", "b", "99999999999", "k"]);
    assert!(!said.contains("memory allocation"), "{said}");
    let run = |c: &str| c.repeat(kustomerge::merge::text::MAX_MARKER_SIZE);
    assert_eq!(
        markers,
        [
            format!("{} ours", run("<")),
            run("="),
            format!("{} theirs", run(">"))
        ]
    );
}

/// A repo whose `-prod/` overlay gained a different image on `job` and on
/// main (plain git stops on that), with the driver registered by `install`
/// or, if `line` is given, by hand.
fn dashed_repo(sb: &Sandbox, name: &str, line: Option<&str>) -> PathBuf {
    let repo = sb.repo(name);
    match line {
        None => {
            let out = sb.kustomerge(&repo, &["install", "--local", "--no-commit-attributes"]);
            assert!(out.status.success(), "{}", stderr(&out));
        }
        Some(line) => {
            sb.register_driver(&repo);
            sb.git(&repo, &["config", "merge.kustomize.driver", line]);
        }
    }
    let job = with_image(BASE, "cron", "4.0.0");
    let main = with_image(BASE, "mailer", "5.0.0");
    diverge(sb, &repo, DASHED, [&job, &main], "job");
    repo
}

#[test]
fn merge_rebase_and_cherry_pick_complete_under_a_dash_directory() {
    let sb = Sandbox::new();
    let old = "kustomerge merge %O %A %B %L %P";
    let ops: [(&str, &[&str]); 3] = [
        ("main", &["merge", "--no-edit", "job"]),
        ("job", &["rebase", "main"]),
        ("main", &["cherry-pick", "job"]),
    ];
    for (n, line) in [None, Some(old)].into_iter().enumerate() {
        for (i, (branch, op)) in ops.iter().enumerate() {
            let repo = dashed_repo(&sb, &format!("repo-{n}-{i}"), line);
            sb.git(&repo, &["checkout", "-q", branch]);
            let out = sb.git_out(&repo, op);
            assert!(
                out.status.success(),
                "{line:?} {op:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                stderr(&out)
            );
            assert_eq!(
                fs::read_to_string(repo.join(DASHED)).unwrap(),
                both_appended(),
                "{line:?} {op:?}"
            );
        }
    }
}

/// During a rebase `ours` is the upstream and `theirs` the replayed commit;
/// git's labels say so (`HEAD`, `<sha> (<subject>)`), even for a subject
/// starting with `-` and holding a quote, which git shell-quotes.
#[test]
fn a_rebase_conflict_carries_git_own_labels() {
    let sb = Sandbox::new();
    if !git_passes_labels(&sb) {
        eprintln!("git older than 2.44 passes no labels; skipping");
        return;
    }
    let repo = sb.repo("labels");
    let out = sb.kustomerge(&repo, &["install", "--local", "--no-commit-attributes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let subject = "-web's bump";
    let [job, main] = ["2.2.0", "2.1.0"].map(|v| BASE.replace("2.0.0", v));
    diverge(&sb, &repo, DASHED, [&job, &main], subject);
    sb.git(&repo, &["checkout", "-q", "job"]);
    let out = sb.git_out(&repo, &["rebase", "main"]);
    assert!(!out.status.success(), "the conflict was resolved");
    let sha = sb.git(&repo, &["rev-parse", "--short", "job"]);
    let result = fs::read_to_string(repo.join(DASHED)).unwrap();
    assert_eq!(
        marker_lines(&result),
        [
            "<<<<<<< HEAD".to_owned(),
            "=======".to_owned(),
            format!(">>>>>>> {} ({subject})", sha.trim())
        ],
        "{result}"
    );
    sb.git(&repo, &["rebase", "--abort"]);
}

/// A panic that escapes `merge` (here: its message to a stderr whose reader
/// has gone) exits above 128, so git aborts instead of recording `%A` as a
/// conflict, as it would for 101.
#[test]
fn a_panic_escaping_merge_is_a_failure_to_git() {
    let sb = Sandbox::new();
    let dir = conflicting_inputs(&sb, "no_stderr");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = sb
        .kustomerge_cmd(&dir)
        .args(["merge", "--", "o", "a", "b", "7", "k"])
        .stderr(writer)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(129));
}
