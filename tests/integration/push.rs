//! `kustomerge push` and `kustomerge demo` against real bare repositories on
//! local disk, with real parallel processes where a race is the point.

use std::path::{Path, PathBuf};
use std::process::Output;

use kustomerge::demo::{self, Arena, Layout, OVERLAY, Pipeline};
use serde_json::Value;

use crate::common::{Sandbox, bin, stderr, without_identity};

/// A bare remote whose `main` holds the demo overlay for three images.
pub(crate) fn remote(sb: &Sandbox) -> PathBuf {
    let seed = sb.repo("seed");
    sb.commit_file(
        &seed,
        OVERLAY,
        demo::overlay(3, Layout::Block).as_bytes(),
        "overlay",
    );
    let bare = sb.path().join("remote.git");
    sb.git(sb.path(), &["clone", "-q", "--bare", "seed", "remote.git"]);
    bare
}

pub(crate) fn clone(sb: &Sandbox, bare: &Path, name: &str) -> PathBuf {
    sb.git(sb.path(), &["clone", "-q", &bare.to_string_lossy(), name]);
    sb.path().join(name)
}

/// `set-image --commit` in `repo`.
pub(crate) fn set_image(sb: &Sandbox, repo: &Path, arg: &str) {
    let out = sb.kustomerge(repo, &["set-image", "-f", OVERLAY, "--commit", arg]);
    assert!(out.status.success(), "set-image failed: {}", stderr(&out));
}

/// Edits the overlay with a plain text replace and commits it (no trailer).
fn commit_edit(sb: &Sandbox, repo: &Path, from: &str, to: &str, msg: &str) {
    let text = std::fs::read_to_string(repo.join(OVERLAY)).unwrap();
    assert!(text.contains(from), "{from:?} not in the overlay");
    std::fs::write(repo.join(OVERLAY), text.replacen(from, to, 1)).unwrap();
    sb.git(repo, &["commit", "-q", "-am", msg]);
}

/// Runs `push --json` plus `extra` in `repo`; returns the output and the JSON.
pub(crate) fn push(sb: &Sandbox, repo: &Path, extra: &[&str]) -> (Output, Value) {
    let mut args = vec!["push", "--json"];
    args.extend(extra);
    let out = sb.kustomerge(repo, &args);
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON on stdout ({e}); stderr: {}", stderr(&out)));
    (out, json)
}

/// The shape a push race starts from: clone `a` has landed `landed` on the
/// remote's main, and clone `b` holds `pending`, committed on the old tip.
/// Each edit is (from, to, message), as for [`commit_edit`]. Returns the
/// remote and `b`.
fn raced(
    sb: &Sandbox,
    landed: (&str, &str, &str),
    pending: (&str, &str, &str),
) -> (PathBuf, PathBuf) {
    let bare = remote(sb);
    let (a, b) = (clone(sb, &bare, "a"), clone(sb, &bare, "b"));
    commit_edit(sb, &a, landed.0, landed.1, landed.2);
    sb.git(&a, &["push", "-q", "origin", "main"]);
    commit_edit(sb, &b, pending.0, pending.1, pending.2);
    (bare, b)
}

/// Installs `script` as the bare remote's pre-receive hook.
pub(crate) fn pre_receive(bare: &Path, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let hook = bare.join("hooks/pre-receive");
    std::fs::write(&hook, script).unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
}

pub(crate) fn remote_overlay(sb: &Sandbox, bare: &Path) -> String {
    sb.git(bare, &["show", &format!("main:{OVERLAY}")])
}

fn rev(sb: &Sandbox, repo: &Path, what: &str) -> String {
    sb.git(repo, &["rev-parse", what]).trim().to_owned()
}

/// Not mid-rebase, nothing unmerged, nothing modified.
fn assert_clean(sb: &Sandbox, repo: &Path) {
    assert!(!repo.join(".git/rebase-merge").exists(), "left mid-rebase");
    assert!(!repo.join(".git/rebase-apply").exists(), "left mid-rebase");
    assert_eq!(
        sb.git(repo, &["ls-files", "-u"]),
        "",
        "unmerged entries left"
    );
    assert_eq!(
        sb.git(repo, &["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
}

fn race_all_land(layout: Layout) {
    let arena = Arena::racing(&bin(), 20, layout).unwrap();
    let report = arena
        .race("kustomerge", Pipeline::Kustomerge, true)
        .unwrap();
    let failures: Vec<_> = report
        .jobs
        .iter()
        .filter_map(|j| j.error.as_deref())
        .collect();
    assert_eq!(report.landed(), 20, "failures: {failures:#?}");
    assert!(
        report.missing.is_empty(),
        "tags missing from the final file: {:?}",
        report.missing
    );
    // The jobs really raced (otherwise this test would prove nothing): the
    // arena holds every push until all have fetched, so all but one lose.
    let first_try = report.jobs.iter().filter(|j| j.retries == 0).count();
    assert_eq!(first_try, 1, "jobs that landed without losing a race");
}

#[test]
fn twenty_parallel_jobs_all_land_on_a_block_list() {
    race_all_land(Layout::Block);
}

#[test]
fn twenty_parallel_jobs_all_land_on_a_flow_list() {
    race_all_land(Layout::Flow);
}

#[test]
fn commits_without_trailers_are_rebased_through_the_driver() {
    let sb = Sandbox::new();
    let last = "  - name: registry.example.com/shop/svc-02\n    newTag: 1.0.0\n";
    let (bare, b) = raced(
        &sb,
        (
            last,
            &format!("{last}  - name: cache\n    newTag: 7.2.0\n"),
            "add cache",
        ),
        (
            last,
            &format!("{last}  - name: search\n    newTag: 8.1.0\n"),
            "add search",
        ),
    );

    let (out, json) = push(&sb, &b, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["result"], "landed");
    assert_eq!(json["rebased"][0]["subject"], "add search");
    assert_eq!(json["reapplied"].as_array().unwrap().len(), 0);
    let text = remote_overlay(&sb, &bare);
    assert!(text.contains("name: cache\n    newTag: 7.2.0"), "{text}");
    assert!(text.contains("name: search\n    newTag: 8.1.0"), "{text}");
    assert_eq!(rev(&sb, &b, "HEAD"), json["sha"].as_str().unwrap());
    assert_clean(&sb, &b);
}

/// Two commits set the same image to different versions: a conflict by
/// default; `--same-image newest` keeps the higher one, as `install
/// --policy newest` does for the registered driver.
#[test]
fn same_image_newest_lets_the_higher_version_win_while_rebasing() {
    let sb = Sandbox::new();
    let svc = "name: registry.example.com/shop/svc-02\n    newTag:";
    let (bare, b) = raced(
        &sb,
        (&format!("{svc} 1.0.0"), &format!("{svc} 1.1.0"), "1.1.0"),
        (&format!("{svc} 1.0.0"), &format!("{svc} 1.2.0"), "1.2.0"),
    );

    let (out, json) = push(&sb, &b, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(json["result"], "conflict");
    assert_clean(&sb, &b);

    let (out, json) = push(&sb, &b, &["--same-image", "newest"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["result"], "landed");
    let text = remote_overlay(&sb, &bare);
    assert!(text.contains(&format!("{svc} 1.2.0")), "{text}");
    assert_clean(&sb, &b);
}

#[test]
fn a_real_conflict_aborts_the_rebase_and_exits_4() {
    let sb = Sandbox::new();
    let (bare, b) = raced(
        &sb,
        ("namespace: shop-prod", "namespace: shop-blue", "blue"),
        ("namespace: shop-prod", "namespace: shop-green", "green"),
    );
    let ours = rev(&sb, &b, "HEAD");

    let (out, json) = push(&sb, &b, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(json["result"], "conflict");
    assert_eq!(json["conflict"]["files"][0]["path"], OVERLAY);
    assert_eq!(json["conflict"]["files"][0]["keys"][0], "namespace");
    assert!(stderr(&out).contains(OVERLAY), "{}", stderr(&out));
    // The clone is back on its own commit, on its branch, not mid-rebase.
    assert_clean(&sb, &b);
    assert_eq!(rev(&sb, &b, "HEAD"), ours);
    assert_eq!(
        sb.git(&b, &["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/main"
    );
    assert!(remote_overlay(&sb, &bare).contains("namespace: shop-blue"));
}

#[test]
fn a_pre_receive_hook_rejection_is_not_retried_and_exits_6() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    pre_receive(
        &bare,
        "#!/bin/sh\necho 'policy: deploys are frozen until Monday' >&2\nexit 1\n",
    );
    let b = clone(&sb, &bare, "b");
    set_image(&sb, &b, "registry.example.com/shop/svc-01:1.2.0");
    let ours = rev(&sb, &b, "HEAD");

    let (out, json) = push(&sb, &b, &[]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert_eq!(json["result"], "rejected");
    assert_eq!(json["attempts"], 1);
    assert!(
        stderr(&out).contains("deploys are frozen until Monday"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("lost the race"), "{}", stderr(&out));
    assert_eq!(rev(&sb, &b, "HEAD"), ours);
    assert_clean(&sb, &b);
}

#[test]
fn no_downgrade_skips_an_older_build_without_an_empty_commit() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    let (newer, older) = (clone(&sb, &bare, "newer"), clone(&sb, &bare, "older"));
    set_image(&sb, &newer, "registry.example.com/shop/svc-00:2.0.0");
    let (out, json) = push(&sb, &newer, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["reapplied"][0]["result"], "changed");
    let tip = rev(&sb, &bare, "main");

    // The older build finishes last.
    set_image(&sb, &older, "registry.example.com/shop/svc-00:1.5.0");
    let (out, json) = push(&sb, &older, &["--no-downgrade"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["result"], "noop");
    assert_eq!(json["skipped"][0]["result"], "skipped-newer");
    assert_eq!(rev(&sb, &bare, "main"), tip, "something was pushed");
    assert_eq!(
        rev(&sb, &older, "HEAD"),
        tip,
        "an empty commit was left behind"
    );
    assert!(remote_overlay(&sb, &bare).contains("newTag: 2.0.0"));
    assert_clean(&sb, &older);
}

#[test]
fn a_shallow_clone_lands_and_stays_shallow() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    let other = clone(&sb, &bare, "other");
    for n in 1..=3 {
        set_image(
            &sb,
            &other,
            &format!("registry.example.com/shop/svc-02:1.0.{n}"),
        );
        sb.git(&other, &["push", "-q", "origin", "main"]);
    }
    let url = format!("file://{}", bare.display());
    sb.git(sb.path(), &["clone", "-q", "--depth", "1", &url, "shallow"]);
    let shallow = sb.path().join("shallow");
    // Others keep pushing after the shallow checkout.
    set_image(&sb, &other, "registry.example.com/shop/svc-02:1.0.9");
    sb.git(&other, &["push", "-q", "origin", "main"]);
    set_image(&sb, &shallow, "registry.example.com/shop/svc-01:3.0.0");

    let (out, json) = push(&sb, &shallow, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["result"], "landed");
    let text = remote_overlay(&sb, &bare);
    assert!(text.contains("svc-01\n    newTag: 3.0.0"), "{text}");
    assert!(text.contains("svc-02\n    newTag: 1.0.9"), "{text}");
    assert_eq!(
        sb.git(&shallow, &["rev-parse", "--is-shallow-repository"])
            .trim(),
        "true"
    );
}

#[test]
fn preconditions_are_checked_before_anything_moves() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    let repo = clone(&sb, &bare, "c");

    // Nothing ahead of the remote: a successful no-op.
    let (out, json) = push(&sb, &repo, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["result"], "noop");

    // A dirty work tree is refused.
    std::fs::write(repo.join(OVERLAY), "namespace: dirty\n").unwrap();
    let (out, json) = push(&sb, &repo, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json["result"], "error");
    assert!(
        stderr(&out).contains("uncommitted changes"),
        "{}",
        stderr(&out)
    );
    sb.git(&repo, &["checkout", "-q", "--", OVERLAY]);

    // No identity: a clear error, not a failure halfway through a rebase.
    set_image(&sb, &repo, "registry.example.com/shop/svc-01:1.3.0");
    let out = without_identity(&sb, &repo).arg("push").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("identity"), "{}", stderr(&out));

    // A detached HEAD needs --branch, and then lands.
    sb.git(&repo, &["checkout", "-q", "--detach"]);
    let (out, _) = push(&sb, &repo, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--branch"), "{}", stderr(&out));
    let (out, json) = push(&sb, &repo, &["--branch", "main"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["result"], "landed");
    assert!(remote_overlay(&sb, &bare).contains("newTag: 1.3.0"));
}

#[test]
fn demo_races_both_pipelines_and_prints_the_table() {
    let sb = Sandbox::new();
    let out = sb.kustomerge(sb.path(), &["demo", "--jobs", "4", "--layout", "flow"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}\n{}", stderr(&out));
    assert!(
        table.contains("| 4 jobs, flow layout | plain git"),
        "{table}"
    );
    assert!(
        table.contains("| landed |") && table.contains("| 4/4 |"),
        "{table}"
    );
    assert!(
        table.contains("| lost updates (tag not in final file) |"),
        "{table}"
    );
    // The combining push and the loop without it, side by side, with the
    // server calls the wrappers counted (a clone and a fetch at the least).
    assert!(
        table.contains("| kustomerge push | kustomerge push --no-combine |"),
        "{table}"
    );
    let calls = table
        .lines()
        .find(|l| l.starts_with("| server calls per job |"))
        .unwrap_or_else(|| panic!("no calls row: {table}"));
    let counts: Vec<f64> = calls
        .split('|')
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    assert_eq!(counts.len(), 3, "{calls}");
    assert!(counts.iter().all(|&c| c >= 2.0), "{calls}");
}

/// Issue 12, item 1: `set-image --commit` commits the whole file, so an edit
/// made beside it (a label, a resources entry, a comment) is part of the
/// commit. Losing the race must not reduce the commit to its trailer.
#[test]
fn an_unrelated_edit_in_the_same_file_survives_a_lost_race() {
    let svc1 = "svc-01\n    newTag: 1.0.0";
    for (what, from, to) in [
        (
            "label",
            "namespace: shop-prod\n",
            "namespace: shop-prod\ncommonLabels:\n  team: web\n",
        ),
        (
            "resource",
            "  - ingress.yaml\n",
            "  - ingress.yaml\n  - pdb.yaml\n",
        ),
        (
            "comment",
            "kind: Kustomization\n",
            "kind: Kustomization\n# owner: team-web, ask in #deploys\n",
        ),
    ] {
        let sb = Sandbox::new();
        let bare = remote(&sb);
        let (a, b) = (clone(&sb, &bare, "a"), clone(&sb, &bare, "b"));
        set_image(&sb, &a, "registry.example.com/shop/svc-02:3.0.0");
        sb.git(&a, &["push", "-q", "origin", "main"]);
        // The job's own edit, left in the work tree for `--commit` to take.
        let text = std::fs::read_to_string(b.join(OVERLAY)).unwrap();
        std::fs::write(b.join(OVERLAY), text.replacen(from, to, 1)).unwrap();
        set_image(&sb, &b, "registry.example.com/shop/svc-01:2.4.0");

        let (out, json) = push(&sb, &b, &[]);
        assert_eq!(out.status.code(), Some(0), "{what}: {}", stderr(&out));
        assert_eq!(json["result"], "landed", "{what}");
        assert_eq!(json["reapplied"].as_array().unwrap().len(), 0, "{what}");
        assert_eq!(json["rebased"].as_array().unwrap().len(), 1, "{what}");
        let text = remote_overlay(&sb, &bare);
        assert!(text.contains(to), "{what} lost:\n{text}");
        assert!(
            text.contains("svc-01\n    newTag: 2.4.0"),
            "{what}:\n{text}"
        );
        assert!(
            text.contains("svc-02\n    newTag: 3.0.0"),
            "{what}:\n{text}"
        );
        assert!(!text.contains(svc1), "{what}:\n{text}");
        assert_clean(&sb, &b);
    }
}

/// The other side of the same rule: a commit that is exactly its recorded
/// edit is still reapplied, not rebased.
#[test]
fn a_commit_that_is_exactly_its_edit_is_reapplied() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    let (a, b) = (clone(&sb, &bare, "a"), clone(&sb, &bare, "b"));
    set_image(&sb, &a, "registry.example.com/shop/svc-02:3.0.0");
    sb.git(&a, &["push", "-q", "origin", "main"]);
    set_image(&sb, &b, "registry.example.com/shop/svc-01:2.4.0");
    let (out, json) = push(&sb, &b, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["reapplied"][0]["result"], "changed");
    assert_eq!(json["rebased"].as_array().unwrap().len(), 0);
}

/// Points `repo`'s `origin` at `bare` through an `ext::` remote whose ssh
/// stand-in resets the connection for the first `failures` runs of
/// `service` (`git-receive-pack` for push, `git-upload-pack` for fetch),
/// then serves the real thing. Real git prints what it prints for a reset.
fn flaky_origin(sb: &Sandbox, repo: &Path, bare: &Path, service: &str, failures: u32) {
    let script = sb.path().join("flaky.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n\
             n=$(cat \"$3\" 2>/dev/null || echo 0)\n\
             if [ \"$1\" = {service} ] && [ \"$n\" -lt {failures} ]; then\n\
             \x20 echo $((n+1)) > \"$3\"\n\
             \x20 echo 'ssh: connect to host git.example.com port 22: Connection reset by peer' >&2\n\
             \x20 exit 128\n\
             fi\n\
             exec \"$1\" \"$2\"\n"
        ),
    )
    .unwrap();
    let count = sb.path().join("count");
    let url = format!(
        "ext::sh {} %S {} {}",
        script.display(),
        bare.display(),
        count.display()
    );
    sb.git(repo, &["config", "protocol.ext.allow", "always"]);
    sb.git(repo, &["remote", "set-url", "origin", &url]);
}

#[test]
fn transient_faults_are_retried_with_the_reason() {
    for service in ["git-receive-pack", "git-upload-pack"] {
        let sb = Sandbox::new();
        let bare = remote(&sb);
        let b = clone(&sb, &bare, "b");
        set_image(&sb, &b, "registry.example.com/shop/svc-01:1.2.0");
        flaky_origin(&sb, &b, &bare, service, 2);

        let (out, json) = push(&sb, &b, &[]);
        assert_eq!(out.status.code(), Some(0), "{service}: {}", stderr(&out));
        assert_eq!(json["result"], "landed", "{service}");
        assert_eq!(json["attempts"], 3, "{service}");
        let err = stderr(&out);
        assert!(
            err.contains("hit a transient fault") && err.contains("connection reset"),
            "{service}: {err}"
        );
        assert!(remote_overlay(&sb, &bare).contains("newTag: 1.2.0"));
        assert_clean(&sb, &b);
    }
}

#[test]
fn a_fault_that_never_clears_exhausts_the_budget_with_exit_5() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    let b = clone(&sb, &bare, "b");
    set_image(&sb, &b, "registry.example.com/shop/svc-01:1.2.0");
    let ours = rev(&sb, &b, "HEAD");
    flaky_origin(&sb, &b, &bare, "git-receive-pack", 1000);

    let (out, json) = push(&sb, &b, &["--max-attempts", "3"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(json["result"], "exhausted");
    assert_eq!(json["attempts"], 3);
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("connection reset"),
        "{json}"
    );
    assert_eq!(rev(&sb, &b, "HEAD"), ours);
    assert_clean(&sb, &b);
}

#[test]
fn a_missing_remote_or_branch_is_a_usage_error() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    let b = clone(&sb, &bare, "b");
    set_image(&sb, &b, "registry.example.com/shop/svc-01:1.2.0");
    for (args, message) in [
        (&["--remote", "orign"][..], "no remote named \"orign\""),
        (&["--branch", "mian"][..], "has no branch mian"),
        (
            &["--remote", "/nonexistent/remote.git"][..],
            "not a git repository",
        ),
    ] {
        let (out, json) = push(&sb, &b, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(json["result"], "error");
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(
        sb.git(&bare, &["branch", "--list", "mian"]),
        "",
        "a branch was created"
    );
}

/// Issue 12, items 6 and 7: what does not reach the remote is said in the
/// text output, not only in `--json`.
#[test]
fn the_text_says_what_was_skipped_or_rebased_into_nothing() {
    let sb = Sandbox::new();
    let svc = "name: registry.example.com/shop/svc-02\n    newTag:";
    let (bare, b) = raced(
        &sb,
        (&format!("{svc} 1.0.0"), &format!("{svc} 1.1.0"), "1.1.0"),
        (
            &format!("{svc} 1.0.0"),
            &format!("{svc} 1.1.0"),
            "same 1.1.0",
        ),
    );
    let tip = rev(&sb, &bare, "main");
    let (out, json) = push(&sb, &b, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["result"], "noop");
    assert_eq!(json["rebased"][0]["dropped"], true);
    let err = stderr(&out);
    assert!(
        err.contains("same 1.1.0 rebased into nothing: its change is already on origin/main"),
        "{err}"
    );
    assert!(err.contains("1 commit(s) rebased into nothing"), "{err}");
    assert_eq!(rev(&sb, &bare, "main"), tip);

    // An older build finishing late: skipped, said so, exit 0.
    let older = clone(&sb, &bare, "older");
    let newer = clone(&sb, &bare, "newer");
    set_image(&sb, &newer, "registry.example.com/shop/svc-00:2.0.0");
    sb.git(&newer, &["push", "-q", "origin", "main"]);
    set_image(&sb, &older, "registry.example.com/shop/svc-00:1.5.0");
    let (out, json) = push(&sb, &older, &["--no-downgrade"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        json["skipped"][0]["reason"],
        "`registry.example.com/shop/svc-00` 1.5.0 is older than 2.0.0"
    );
    assert!(
        stderr(&out).contains(
            "skipped: `registry.example.com/shop/svc-00` 1.5.0 is older than 2.0.0 on origin/main"
        ),
        "{}",
        stderr(&out)
    );
}
