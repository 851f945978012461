//! Issue 12: the setters refuse what kustomize or a registry would reject,
//! `--no-downgrade` skips instead of failing, and every `--commit` step can
//! be re-run after it failed.

use crate::common::{Sandbox, stderr, without_identity};
use std::path::{Path, PathBuf};

const DIGEST: &str = "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3";

const OVERLAY: &str = "\
images:
- name: api
  newName: ghcr.io/acme/api
  newTag: 1.0.0 # {\"$imagepolicy\": \"flux-system:api:tag\"}
- name: web
  newTag: 2.0.0
replicas:
- name: api
  count: 2
";

/// A repository with OVERLAY committed as `kustomization.yaml`.
fn repo(sb: &Sandbox) -> PathBuf {
    let repo = sb.repo("r");
    sb.commit_file(&repo, "kustomization.yaml", OVERLAY.as_bytes(), "base");
    repo
}

fn run(sb: &Sandbox, repo: &Path, args: &[&str]) -> (i32, String) {
    let out = sb.kustomerge(repo, args);
    (out.status.code().unwrap(), stderr(&out))
}

fn file(repo: &Path) -> String {
    std::fs::read_to_string(repo.join("kustomization.yaml")).unwrap()
}

#[test]
fn invalid_values_are_refused_naming_the_value_and_the_rule() {
    let sb = Sandbox::new();
    let repo = repo(&sb);
    let long = format!("api:{}", "a".repeat(129));
    let cases: &[(&[&str], &str)] = &[
        (&["set-replicas", "api=-1"], "replica count -1 is negative"),
        (&["set-replicas", "=3"], "the name before `=` is empty"),
        (
            &["set-image", "api=ghcr.io/x:1.0@sha256:short"],
            "a sha256 digest is 64 lowercase hex digits",
        ),
        (
            &["set-image", &format!("api@{}", &DIGEST[..70])],
            "a sha256 digest is 64 lowercase hex digits",
        ),
        (
            &["set-image", "api@sha512:abc"],
            "a sha512 digest is 128 lowercase hex digits",
        ),
        (
            &["set-image", "api:1.0 extra"],
            "tag `1.0 extra` is not valid",
        ),
        (&["set-image", "api:-rc1"], "a tag is [A-Za-z0-9_]"),
        (
            &["set-image", &long],
            "a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
        ),
        (
            &["set-image", "api=ghcr.io/Acme/api:1.0"],
            "newName `ghcr.io/Acme/api` is not a valid image reference",
        ),
        (
            &["set-image", "api=bad host/api:1"],
            "`bad host` is not a path component",
        ),
        (&["set-image", "api=-x.io/api:1"], "not a host name"),
        (&["set-image", "api="], "the image after `api=` is empty"),
        (
            &["set-image", "api=ghcr.io/acme/api@"],
            "the digest after `@` is empty",
        ),
    ];
    for (args, message) in cases {
        let (code, err) = run(&sb, &repo, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert_eq!(file(&repo), OVERLAY, "{args:?} touched the file");
    }
    // What registries do accept still goes through.
    for arg in [
        format!("api=localhost:5000/acme/api:v1.2_3-rc.1@{DIGEST}"),
        "api=ghcr.io/acme/my__api:_build.7".to_owned(),
        "api=[::1]:5000/acme/api:1".to_owned(),
    ] {
        let (code, err) = run(&sb, &repo, &["set-image", &arg]);
        assert_eq!(code, 0, "{arg}: {err}");
    }
    let (code, err) = run(&sb, &repo, &["set-replicas", "api=0"]);
    assert_eq!(code, 0, "{err}");
}

/// An unset `$VERSION` makes `api=ghcr.io/acme/api:`; kustomize would delete
/// the tag line and its Flux marker.
#[test]
fn an_empty_tag_is_refused_unless_asked_for() {
    let sb = Sandbox::new();
    let repo = repo(&sb);
    let (code, err) = run(
        &sb,
        &repo,
        &["set-image", "--commit", "api=ghcr.io/acme/api:"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`api=ghcr.io/acme/api:`"), "{err}");
    assert!(err.contains("the tag after `:` is empty"), "{err}");
    assert!(err.contains("--allow-empty-tag"), "{err}");
    assert_eq!(file(&repo), OVERLAY);
    assert_eq!(sb.git(&repo, &["rev-list", "--count", "HEAD"]).trim(), "1");

    let (code, err) = run(
        &sb,
        &repo,
        &["set-image", "--allow-empty-tag", "api=ghcr.io/acme/api:"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!file(&repo).contains("1.0.0"), "{}", file(&repo));
}

#[test]
fn no_downgrade_skips_the_older_image_and_sets_the_others() {
    let sb = Sandbox::new();
    let repo = repo(&sb);
    let (code, err) = run(
        &sb,
        &repo,
        &[
            "set-image",
            "--no-downgrade",
            "--commit",
            "api:0.9.0",
            "web:2.1.0",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("skipped: `api` 0.9.0 is older than 1.0.0"),
        "{err}"
    );
    let text = file(&repo);
    assert!(text.contains("newTag: 1.0.0 #"), "{text}");
    assert!(text.contains("newTag: 2.1.0"), "{text}");
    // Only what was applied is recorded for `push` to replay.
    let message = sb.git(&repo, &["log", "-1", "--format=%B"]);
    assert!(
        message.contains("kustomization.yaml web:2.1.0"),
        "{message}"
    );
    assert!(!message.contains("api:0.9.0"), "{message}");

    // All skipped: exit 0, nothing written, no commit.
    let head = sb.git(&repo, &["rev-parse", "HEAD"]);
    let (code, err) = run(
        &sb,
        &repo,
        &["set-image", "--no-downgrade", "--commit", "web:2.0.9"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("skipped: `web` 2.0.9 is older than 2.1.0"),
        "{err}"
    );
    assert_eq!(sb.git(&repo, &["rev-parse", "HEAD"]), head);
    // --expect stays a guard that fails: the caller asked for it.
    let (code, _) = run(&sb, &repo, &["set-image", "--expect", "9", "web:3.0.0"]);
    assert_eq!(code, 3);
}

#[test]
fn commit_checks_identity_and_state_before_writing() {
    let sb = Sandbox::new();
    let repo = repo(&sb);
    let out = without_identity(&sb, &repo)
        .args(["set-image", "--commit", "api:1.1.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("identity"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("run this command again"),
        "{}",
        stderr(&out)
    );
    assert_eq!(file(&repo), OVERLAY, "written without a way to commit");

    // With the identity back, the same command does the whole step.
    let (code, err) = run(&sb, &repo, &["set-image", "--commit", "api:1.1.0"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(sb.git(&repo, &["status", "--porcelain"]), "");
    assert!(
        sb.git(&repo, &["log", "-1", "--format=%B"])
            .contains("Kustomerge-Set-Image: kustomization.yaml api:1.1.0")
    );

    // A merge in progress: refused before writing.
    std::fs::write(
        repo.join(".git/MERGE_HEAD"),
        sb.git(&repo, &["rev-parse", "HEAD"]),
    )
    .unwrap();
    let before = file(&repo);
    let (code, err) = run(&sb, &repo, &["set-image", "--commit", "api:1.2.0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a merge is in progress"), "{err}");
    assert_eq!(file(&repo), before);
}

#[test]
fn a_failed_commit_says_how_to_recover_and_the_rerun_commits() {
    let sb = Sandbox::new();
    let repo = repo(&sb);
    let hook = repo.join(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, "#!/bin/sh\necho 'lint: not today' >&2\nexit 1\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (code, err) = run(
        &sb,
        &repo,
        &["set-image", "--commit", "api=ghcr.io/acme/api:1.1.0"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("lint: not today"), "{err}");
    assert!(
        err.contains("run the same command again to commit it: kustomerge set-image --commit api=ghcr.io/acme/api:1.1.0"),
        "{err}"
    );
    assert!(file(&repo).contains("1.1.0"));

    std::fs::remove_file(&hook).unwrap();
    let (code, err) = run(
        &sb,
        &repo,
        &["set-image", "--commit", "api=ghcr.io/acme/api:1.1.0"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("committing it"), "{err}");
    assert_eq!(sb.git(&repo, &["status", "--porcelain"]), "");
    let message = sb.git(&repo, &["log", "-1", "--format=%B"]);
    assert!(
        message.contains("Kustomerge-Set-Image: kustomization.yaml api=ghcr.io/acme/api:1.1.0"),
        "{message}"
    );

    // A third run has nothing left to do.
    let head = sb.git(&repo, &["rev-parse", "HEAD"]);
    let (code, err) = run(
        &sb,
        &repo,
        &["set-image", "--commit", "api=ghcr.io/acme/api:1.1.0"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nothing to commit"), "{err}");
    assert_eq!(sb.git(&repo, &["rev-parse", "HEAD"]), head);

    // The value is there but so is someone's unrelated edit: not committed
    // under our trailer; the way out is printed.
    std::fs::write(
        repo.join("kustomization.yaml"),
        format!("namespace: x\n{}", file(&repo)),
    )
    .unwrap();
    let (code, err) = run(
        &sb,
        &repo,
        &["set-image", "--commit", "api=ghcr.io/acme/api:1.1.0"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("other uncommitted changes"), "{err}");
    assert_eq!(sb.git(&repo, &["rev-parse", "HEAD"]), head);
}
