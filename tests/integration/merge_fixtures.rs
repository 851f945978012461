//! `fixtures/merge/<case>/{base,current,other,expected}.yaml`: one folder per
//! behaviour, run through the real binary the way git runs a driver. A case
//! with `EXPECT_CONFLICT` (holding the number of marker blocks) must exit 1;
//! an `args` file adds options, one per line; a `conflict_style` file sets
//! git's `merge.conflictStyle` (the driver reads it from git). A case with
//! `EXPECT_FALLBACK` must say on stderr that git's line merge was used, for a
//! reason containing that file's text; any other case must not.

use std::fs;

use crate::common::{Sandbox, fixtures, git_merge_file, stderr};

#[test]
fn every_merge_fixture_gives_its_expected_bytes() {
    let sb = Sandbox::new();
    let mut cases: Vec<_> = fs::read_dir(fixtures().join("merge"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 40, "fixture folder went missing");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let work = sb.path().join(&name);
        fs::create_dir_all(&work).unwrap();
        fs::copy(case.join("current.yaml"), work.join("current")).unwrap();
        let args = fs::read_to_string(case.join("args")).unwrap_or_default();
        let mut cmd = sb.kustomerge_cmd(&work);
        if let Ok(style) = fs::read_to_string(case.join("conflict_style")) {
            cmd.env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "merge.conflictStyle")
                .env("GIT_CONFIG_VALUE_0", style.trim());
        }
        cmd.arg("merge").args(args.lines());
        cmd.arg(case.join("base.yaml"))
            .arg("current")
            .arg(case.join("other.yaml"));
        cmd.args(["7", "kustomization.yaml"]);
        let out = cmd.output().unwrap();
        let got = fs::read(work.join("current")).unwrap();
        let want = fs::read(case.join("expected.yaml")).unwrap();
        let conflicts = fs::read_to_string(case.join("EXPECT_CONFLICT")).ok();
        let code = out.status.code();
        if got != want {
            failures.push(format!(
                "{name}: bytes differ\n--- got\n{}\n--- want\n{}",
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want)
            ));
        }
        match &conflicts {
            Some(n) => {
                let markers = String::from_utf8_lossy(&got)
                    .lines()
                    .filter(|l| l.starts_with("<<<<<<< "))
                    .count();
                if code != Some(1) || markers.to_string() != n.trim() {
                    failures.push(format!(
                        "{name}: want exit 1 with {} marker block(s), got {code:?} with {markers}",
                        n.trim()
                    ));
                }
            }
            None => {
                if code != Some(0) || got.windows(8).any(|w| w == b"<<<<<<< ") {
                    failures.push(format!(
                        "{name}: want a clean exit 0, got {code:?}: {}",
                        stderr(&out)
                    ));
                }
            }
        }
        let said = stderr(&out);
        let fell_back = said.contains("using git's line merge");
        let why = fs::read_to_string(case.join("EXPECT_FALLBACK")).ok();
        if why
            .as_ref()
            .map_or(fell_back, |why| !fell_back || !said.contains(why.trim()))
        {
            failures.push(format!(
                "{name}: want {}, got: {said}",
                why.as_ref().map_or_else(
                    || "no fallback".to_owned(),
                    |why| format!("git's line merge because {:?}", why.trim())
                )
            ));
        }
        if !out.stdout.is_empty() {
            failures.push(format!(
                "{name}: the driver wrote to stdout, which git mixes into its own output"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// A panic in the structured merge is caught: the driver answers with exactly
/// what `git merge-file` gives, exit code included, plus a warning.
#[test]
fn a_panic_in_the_structured_merge_falls_back_to_git_merge_file() {
    let sb = Sandbox::new();
    let case = fixtures().join("merge/both_append_different_images");
    // The panic hook exists in debug builds only, which `cargo test` runs.
    for (var, needle) in [
        ("KUSTOMERGE_TEST_PANIC", "internal error"),
        ("KUSTOMERGE_FALLBACK", "KUSTOMERGE_FALLBACK is set"),
    ] {
        fs::copy(case.join("current.yaml"), sb.path().join("current")).unwrap();
        let out = sb
            .kustomerge_cmd(sb.path())
            .env(var, "1")
            .arg("merge")
            .arg(case.join("base.yaml"))
            .arg("current")
            .arg(case.join("other.yaml"))
            .output()
            .unwrap();
        let read = |name: &str| fs::read(case.join(name)).unwrap();
        let (git, _) = git_merge_file(
            &sb,
            [
                &read("base.yaml"),
                &read("current.yaml"),
                &read("other.yaml"),
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "git conflicts on both-append: {}",
            stderr(&out)
        );
        assert!(stderr(&out).contains(needle), "{}", stderr(&out));
        assert_eq!(fs::read(sb.path().join("current")).unwrap(), git);
    }
}
