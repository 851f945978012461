//! `kustomerge resolve`: git merges without the driver and stops; resolve
//! merges the file again from the index, as the driver would have. Outside a
//! merge, `fixtures/resolve/<case>/conflicted.yaml` is resolved from its
//! diff3 markers into `expected.yaml`, or, with an `EXPECT_LEFT` file
//! (text the message must hold), left byte for byte with exit 1.

use std::fs;
use std::path::PathBuf;

use crate::common::{BASE, Sandbox, data_files, diverged_with, fixtures, stderr, with_image};

/// Each side appends an image and a resource: plain git conflicts on both.
fn diverged_twice(sb: &Sandbox, files: &[(&str, &str)]) -> PathBuf {
    let side = |resource: &str, image: &str, tag: &str| {
        let text = BASE.replace(
            "- deployment.yaml\n",
            &format!("- deployment.yaml\n- {resource}\n"),
        );
        with_image(&text, image, tag)
    };
    diverged_with(
        sb,
        files,
        &side("job.yaml", "cron", "4.0.0"),
        &side("main.yaml", "mailer", "5.0.0"),
    )
}

/// Git on `diverged_twice`: `operation` from `branch`, with the driver
/// registered or not, and `files` committed first. Returns the repo and
/// whether git succeeded.
fn run(sb: &Sandbox, files: &[(&str, &str)], operation: &[&str], driver: bool) -> (PathBuf, bool) {
    let (branch, operation) = operation.split_first().unwrap();
    let repo = diverged_twice(sb, files);
    if driver {
        sb.register_driver(&repo);
    }
    sb.git(&repo, &["checkout", "-q", branch]);
    let done = sb.git_out(&repo, operation).status.success();
    (repo, done)
}

/// Git without the driver stops on `operation` (`[branch, git args...]`)
/// with markers; `resolve --add` leaves what the driver would have written
/// (so git's stage 2 is its current side), staged, and `finish` goes on.
fn resolves_like_the_driver(files: &[(&str, &str)], operation: &[&str], finish: &[&str]) {
    let with_driver = Sandbox::new();
    let (repo, done) = run(&with_driver, files, operation, true);
    assert!(done, "{operation:?}: the driver did not merge it");
    let want = fs::read_to_string(repo.join("kustomization.yaml")).unwrap();
    assert!(want.contains("name: mailer") && want.contains("name: cron"));

    let sb = Sandbox::new();
    let (repo, done) = run(&sb, files, operation, false);
    assert!(!done, "{operation:?}: plain git was expected to conflict");
    let file = repo.join("kustomization.yaml");
    assert!(fs::read_to_string(&file).unwrap().contains("<<<<<<< "));

    let out = sb.kustomerge(&repo, &["resolve", "--add"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{operation:?}: {}",
        stderr(&out)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "resolved kustomization.yaml\n"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), want, "{operation:?}");
    assert_eq!(sb.git(&repo, &["ls-files", "-u"]), "", "{operation:?}");
    assert_eq!(
        sb.git(&repo, &["diff", "--cached", "--name-only"]),
        "kustomization.yaml\n"
    );
    let finished = sb
        .git_cmd(&repo)
        .args(finish)
        .env("GIT_EDITOR", "true")
        .output();
    assert!(finished.unwrap().status.success(), "{finish:?}");
}

const MERGE: [&str; 4] = ["main", "merge", "--no-edit", "job"];

#[test]
fn resolve_during_a_merge_a_rebase_and_a_cherry_pick_gives_the_drivers_result() {
    resolves_like_the_driver(&[], &MERGE, &["commit", "--no-edit"]);
    resolves_like_the_driver(&[], &["job", "rebase", "main"], &["rebase", "--continue"]);
    resolves_like_the_driver(
        &[],
        &["main", "cherry-pick", "job"],
        &["cherry-pick", "--continue"],
    );
}

/// The index holds LF and the checkout CRLF: the stages are read as checked
/// out, so the hunks match and the result keeps CRLF.
#[test]
fn resolve_reads_the_stages_as_checked_out() {
    let attributes = [(".gitattributes", "kustomization.yaml text eol=crlf\n")];
    resolves_like_the_driver(&attributes, &MERGE, &["commit", "--no-edit"]);
}

/// Without `--add` the file is written but left for the user to stage.
#[test]
fn resolve_without_add_leaves_the_file_unmerged_in_the_index() {
    let sb = Sandbox::new();
    let (repo, _) = run(&sb, &[], &MERGE, false);
    let out = sb.kustomerge(&repo, &["resolve", "kustomization.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        !fs::read_to_string(repo.join("kustomization.yaml"))
            .unwrap()
            .contains("<<<<<<<")
    );
    assert_ne!(sb.git(&repo, &["ls-files", "-u"]), "");
}

/// Both sides set `api` to a different tag: still a conflict, exit 1, the
/// file byte for byte as git wrote it, and the message names the entry.
#[test]
fn a_real_conflict_stays_in_the_file_untouched() {
    let sb = Sandbox::new();
    let repo = diverged_with(
        &sb,
        &[],
        &BASE.replace("1.0.0", "1.1.0"),
        &BASE.replace("1.0.0", "1.2.0"),
    );
    assert!(
        !sb.git_out(&repo, &["merge", "--no-edit", "job"])
            .status
            .success()
    );
    let file = repo.join("kustomization.yaml");
    let before = fs::read(&file).unwrap();
    let out = sb.kustomerge(&repo, &["resolve", "--add"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("images[api]"), "{}", stderr(&out));
    assert_eq!(fs::read(&file).unwrap(), before);
    assert_ne!(sb.git(&repo, &["ls-files", "-u"]), "");
}

/// A hunk edited by hand since git wrote it is refused: merging the index
/// again would lose the edit.
#[test]
fn a_hand_edited_conflict_is_refused() {
    let sb = Sandbox::new();
    let (repo, _) = run(&sb, &[], &MERGE, false);
    let file = repo.join("kustomization.yaml");
    let edited = fs::read_to_string(&file)
        .unwrap()
        .replace("- name: cron\n", "- name: cronjob\n");
    fs::write(&file, &edited).unwrap();
    let out = sb.kustomerge(&repo, &["resolve"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("edited by hand"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&file).unwrap(), edited);
}

#[test]
fn every_resolve_fixture_is_resolved_or_left_as_it_says() {
    let sb = Sandbox::new();
    let cases = data_files(&fixtures().join("resolve"));
    assert!(cases.len() >= 7, "fixture folder went missing");
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let work = sb.path().join(&name);
        fs::create_dir_all(&work).unwrap();
        let conflicted = fs::read(case.join("conflicted.yaml")).unwrap();
        fs::write(work.join("kustomization.yaml"), &conflicted).unwrap();
        let out = sb.kustomerge(&work, &["resolve", "kustomization.yaml"]);
        let got = fs::read(work.join("kustomization.yaml")).unwrap();
        match fs::read_to_string(case.join("EXPECT_LEFT")) {
            Ok(message) => {
                assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
                assert!(
                    stderr(&out).contains(message.trim()),
                    "{name}: {}",
                    stderr(&out)
                );
                assert_eq!(got, conflicted, "{name}: the file was changed");
            }
            Err(_) => {
                assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
                let want = fs::read(case.join("expected.yaml")).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want),
                    "{name}"
                );
            }
        }
    }
}

/// `--stdout` prints the result and writes nothing; a path starting with
/// `-` is a path after `--`; a missing path is an error naming it.
#[test]
fn stdout_hyphenated_and_missing_paths() {
    let sb = Sandbox::new();
    let case = fixtures().join("resolve/diff3_appends_resolve");
    let dir = sb.path().join("-prod");
    fs::create_dir_all(&dir).unwrap();
    let conflicted = fs::read(case.join("conflicted.yaml")).unwrap();
    let file = dir.join("kustomization.yaml");
    fs::write(&file, &conflicted).unwrap();
    let path = "-prod/kustomization.yaml";

    let out = sb.kustomerge(sb.path(), &["resolve", "--stdout", "--", path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(out.stdout, fs::read(case.join("expected.yaml")).unwrap());
    assert_eq!(fs::read(&file).unwrap(), conflicted);

    let out = sb.kustomerge(sb.path(), &["resolve", "--", path]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        fs::read(&file).unwrap(),
        fs::read(case.join("expected.yaml")).unwrap()
    );

    let out = sb.kustomerge(sb.path(), &["resolve", "missing/kustomization.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("missing/kustomization.yaml: no such file"),
        "{}",
        stderr(&out)
    );
}
