//! The combining push (issue 16): a job that loses a race queues its commit
//! under `refs/heads/kustomerge/queue/`, and the next winner carries it.
//!
//! Races are made deterministic, not hoped for: a clone's `origin` reaches
//! the bare remote through a `git-receive-pack` wrapper that runs a script
//! before or after its N-th call (land another commit first, so the push
//! loses; run another job's `kustomerge push` right after ours queued). The
//! remote, the pushes and every job are the real git and the real binary.

use std::path::Path;

use kustomerge::demo::{self, OVERLAY};
use serde_json::Value;

use crate::common::{Sandbox, bin, stderr};
use crate::push::{clone, pre_receive, push, remote, remote_overlay, set_image};

const QUEUE: &str = "refs/heads/kustomerge/queue/";

fn svc(i: usize) -> String {
    demo::image(i)
}

/// The queue refs on the remote, `name sha subject` per line.
fn queue(sb: &Sandbox, bare: &Path) -> Vec<String> {
    sb.git(
        bare,
        &[
            "for-each-ref",
            "--format=%(refname) %(objectname) %(subject)",
            QUEUE,
        ],
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

/// A fresh queue ref name, as a job would publish it now.
fn fresh_name(tag: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("{QUEUE}{now}-{tag}")
}

/// Routes `repo`'s pushes through a `git-receive-pack` wrapper that runs
/// `scripts` (call number, `before` or `after`, shell text) around its
/// calls, with git's own exported settings removed so that a script's git
/// and kustomerge see only their own repositories.
fn scripted_receive_pack(sb: &Sandbox, repo: &Path, scripts: &[(u32, &str, String)]) {
    let dir = repo.with_extension("hooks");
    std::fs::create_dir_all(&dir).unwrap();
    for (n, when, text) in scripts {
        let path = dir.join(format!("{when}-{n}"));
        std::fs::write(&path, format!("#!/bin/sh\nset -e\n{text}\n")).unwrap();
        make_executable(&path);
    }
    let wrapper = dir.join("receive-pack");
    let d = dir.display();
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n\
             n=$(cat '{d}/count' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{d}/count'\n\
             run() {{ [ -x \"$1\" ] || return 0; env -u GIT_DIR -u GIT_WORK_TREE -u GIT_CONFIG_PARAMETERS -u GIT_CONFIG_COUNT \"$1\" </dev/null >>'{d}/log' 2>&1; }}\n\
             run '{d}/before-'$n\n\
             git receive-pack \"$@\"; rc=$?\n\
             run '{d}/after-'$n\n\
             exit $rc\n"
        ),
    )
    .unwrap();
    make_executable(&wrapper);
    sb.git(
        repo,
        &[
            "config",
            "remote.origin.receivepack",
            &wrapper.to_string_lossy(),
        ],
    );
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Shell text that lands `arg` on the remote from clone `helper` (made
/// beforehand), so that the push the wrapper is serving loses its race.
fn land_first(helper: &Path, arg: &str) -> String {
    format!(
        "cd '{}'\n'{}' set-image -f {OVERLAY} --commit '{arg}'\ngit push -q origin HEAD:main",
        helper.display(),
        bin().display()
    )
}

/// Shell text that runs `kustomerge push --json` in `repo`, keeping its
/// JSON and exit code beside it.
fn push_from_script(repo: &Path) -> String {
    let r = repo.display();
    format!(
        "cd '{r}'\nrc=0; '{}' push --json > '{r}.json' 2> '{r}.err' || rc=$?\necho $rc > '{r}.rc'",
        bin().display()
    )
}

fn scripted_result(repo: &Path) -> (i32, Value, String) {
    let read = |ext: &str| {
        std::fs::read_to_string(repo.with_extension(ext))
            .unwrap_or_else(|e| panic!("{} not run: {e}", repo.display()))
    };
    let json = serde_json::from_str(&read("json"))
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", read("err")));
    (read("rc").trim().parse().unwrap(), json, read("err"))
}

/// B loses its first race, queues its commit; A's push, run right after B
/// queued, carries it; B's next round finds its commit on the branch and
/// exits 0 saying who carried it.
#[test]
fn a_carried_job_exits_0_with_its_edit_on_the_branch() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    let (a, b, c) = (
        clone(&sb, &bare, "a"),
        clone(&sb, &bare, "b"),
        clone(&sb, &bare, "c"),
    );
    set_image(&sb, &a, &format!("{}:2.0.0", svc(0)));
    set_image(&sb, &b, &format!("{}:2.1.0", svc(1)));
    let b_commit = sb.git(&b, &["rev-parse", "HEAD"]).trim().to_owned();
    scripted_receive_pack(
        &sb,
        &b,
        &[
            (1, "before", land_first(&c, &format!("{}:2.3.0", svc(2)))),
            (2, "after", push_from_script(&a)),
        ],
    );

    let (out, json) = push(&sb, &b, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["result"], "carried", "{}", stderr(&out));
    let queue_ref = json["queue_ref"].as_str().unwrap().to_owned();
    assert!(queue_ref.starts_with(QUEUE), "{queue_ref}");
    let by = json["carried_by"]["commit"].as_str().unwrap();
    assert!(stderr(&out).contains("carried:"), "{}", stderr(&out));

    let (rc, a_json, a_err) = scripted_result(&a);
    assert_eq!(rc, 0, "{a_err}");
    assert_eq!(a_json["result"], "landed");
    assert_eq!(a_json["carried"][0]["queue_ref"], queue_ref.as_str());
    assert_eq!(a_json["carried"][0]["edits"][0]["result"], "changed");

    // Every edit is on the branch, B's as a commit of its own with B's
    // message and trailer, and the queue is empty.
    let text = remote_overlay(&sb, &bare);
    for (i, tag) in [(0, "2.0.0"), (1, "2.1.0"), (2, "2.3.0")] {
        assert!(
            text.contains(&format!("{}\n    newTag: {tag}", svc(i))),
            "{text}"
        );
    }
    let message =
        |repo: &Path, sha: &str| sb.git(repo, &["show", "-s", "--format=%an %ad%n%B", sha]);
    assert_eq!(message(&bare, by), message(&b, &b_commit));
    assert!(queue(&sb, &bare).is_empty(), "{:?}", queue(&sb, &bare));
    // B's branch is the remote's, and push left no refs of its own behind.
    assert_eq!(
        sb.git(&b, &["rev-parse", "HEAD"]),
        sb.git(&bare, &["rev-parse", "main"])
    );
    assert_eq!(sb.git(&b, &["for-each-ref", "refs/kustomerge/"]), "");
}

/// A job that crashed after queueing leaves a ref nobody will delete for
/// it: once older than the budget it is not carried, and the next push
/// that lands deletes it.
#[test]
fn a_crashed_queued_jobs_stale_ref_is_cleaned_up() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    let (a, crashed) = (clone(&sb, &bare, "a"), clone(&sb, &bare, "crashed"));
    set_image(&sb, &crashed, &format!("{}:9.9.9", svc(1)));
    // Queued 400 s ago, under a 300 s budget.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let stale = format!("{QUEUE}{}-crashed", now - 400);
    sb.git(
        &crashed,
        &["push", "-q", "origin", &format!("HEAD:{stale}")],
    );
    set_image(&sb, &a, &format!("{}:2.0.0", svc(0)));

    let (out, json) = push(&sb, &a, &["--budget", "300"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["result"], "landed");
    assert_eq!(json["stale_removed"][0], stale.as_str());
    assert_eq!(json["carried"].as_array().unwrap().len(), 0);
    assert!(queue(&sb, &bare).is_empty(), "{:?}", queue(&sb, &bare));
    let text = remote_overlay(&sb, &bare);
    assert!(
        !text.contains("9.9.9"),
        "a stale entry was carried:\n{text}"
    );
    assert!(text.contains(&format!("{}\n    newTag: 2.0.0", svc(0))));
}

/// A queued commit that changed more than its recorded edit (here a label
/// beside the image bump) would lose that change if its edit were redone:
/// it is never carried, and its ref stays for its owner.
#[test]
fn a_queued_job_whose_change_is_not_only_recorded_edits_is_never_carried() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    let (a, b) = (clone(&sb, &bare, "a"), clone(&sb, &bare, "b"));
    let text = std::fs::read_to_string(b.join(OVERLAY)).unwrap();
    let labelled = text.replacen(
        "namespace: shop-prod\n",
        "namespace: shop-prod\ncommonLabels:\n  team: web\n",
        1,
    );
    std::fs::write(b.join(OVERLAY), labelled).unwrap();
    set_image(&sb, &b, &format!("{}:2.1.0", svc(1)));
    let entry = fresh_name("labelled");
    sb.git(&b, &["push", "-q", "origin", &format!("HEAD:{entry}")]);
    set_image(&sb, &a, &format!("{}:2.0.0", svc(0)));

    let (out, json) = push(&sb, &a, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["result"], "landed");
    assert_eq!(json["carried"].as_array().unwrap().len(), 0);
    assert!(
        stderr(&out).contains(&format!("not carrying {entry}")),
        "{}",
        stderr(&out)
    );
    let text = remote_overlay(&sb, &bare);
    assert!(!text.contains("2.1.0"), "{text}");
    assert!(!text.contains("team: web"), "{text}");
    let left = queue(&sb, &bare);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with(&entry), "{left:?}");
}

/// Two jobs in flight set one image to different versions. B1 loses its
/// race and queues; B2, run right after, sees B1's queued edit, withdraws
/// and exits 4; B1 then sees B2's withdrawal and exits 4 too. Neither
/// version is carried, and a third job's push carries neither.
#[test]
fn a_conflicting_pair_is_not_carried_and_both_owners_exit_4() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    let (b1, b2, c, d) = (
        clone(&sb, &bare, "b1"),
        clone(&sb, &bare, "b2"),
        clone(&sb, &bare, "c"),
        clone(&sb, &bare, "d"),
    );
    set_image(&sb, &b1, &format!("{}:2.1.0", svc(1)));
    set_image(&sb, &b2, &format!("{}:2.2.0", svc(1)));
    scripted_receive_pack(
        &sb,
        &b1,
        &[
            (1, "before", land_first(&c, &format!("{}:2.3.0", svc(2)))),
            (2, "after", push_from_script(&b2)),
        ],
    );

    let (out, json) = push(&sb, &b1, &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(json["result"], "conflict");
    assert_eq!(json["conflict"]["files"][0]["path"], OVERLAY);
    let key = format!("images[{}]", svc(1));
    assert_eq!(json["conflict"]["files"][0]["keys"][0], key.as_str());

    let (rc, b2_json, b2_err) = scripted_result(&b2);
    assert_eq!(rc, 4, "{b2_err}");
    assert_eq!(b2_json["conflict"]["files"][0]["keys"][0], key.as_str());
    assert!(
        b2_err.contains("2.1.0"),
        "B2 is told what it clashes with: {b2_err}"
    );

    // Both entries are withdrawals now: nothing can carry them.
    let left = queue(&sb, &bare);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(
        left.iter()
            .all(|l| l.contains("kustomerge push: withdrawn")),
        "{left:?}"
    );
    set_image(&sb, &d, &format!("{}:2.0.0", svc(0)));
    let (out, json) = push(&sb, &d, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["carried"].as_array().unwrap().len(), 0);
    let text = remote_overlay(&sb, &bare);
    assert!(!text.contains("2.1.0") && !text.contains("2.2.0"), "{text}");
}

/// `--no-combine` is the loop as it was: it loses a race, retries on its
/// own, never publishes a queue ref, and carries nobody's queued edit.
#[test]
fn no_combine_behaves_as_today() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    let (b, c, q) = (
        clone(&sb, &bare, "b"),
        clone(&sb, &bare, "c"),
        clone(&sb, &bare, "q"),
    );
    set_image(&sb, &q, &format!("{}:5.0.0", svc(0)));
    let entry = fresh_name("queued");
    sb.git(&q, &["push", "-q", "origin", &format!("HEAD:{entry}")]);
    set_image(&sb, &b, &format!("{}:2.1.0", svc(1)));
    scripted_receive_pack(
        &sb,
        &b,
        &[(1, "before", land_first(&c, &format!("{}:2.3.0", svc(2))))],
    );

    let (out, json) = push(&sb, &b, &["--no-combine"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["result"], "landed");
    assert_eq!(json["attempts"], 2, "the first push lost its race");
    assert_eq!(json["queue_ref"], Value::Null);
    assert_eq!(json["carried"].as_array().unwrap().len(), 0);
    // Two pushes, two fetches and the ls-remote that confirms the lost race.
    assert_eq!(json["server_calls"], 5);
    let left = queue(&sb, &bare);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].starts_with(&entry));
    let text = remote_overlay(&sb, &bare);
    assert!(!text.contains("5.0.0"), "--no-combine carried:\n{text}");
    assert!(text.contains(&format!("{}\n    newTag: 2.1.0", svc(1))));
}

/// A host whose hook refuses the queue prefix: one line says so, and the
/// job lands on its own as with `--no-combine`.
#[test]
fn a_host_that_refuses_the_queue_falls_back_with_one_line() {
    let sb = Sandbox::new();
    let bare = remote(&sb);
    pre_receive(
        &bare,
        "#!/bin/sh\nwhile read old new ref; do\n  case $ref in refs/heads/kustomerge/*) echo \"only main may be pushed\" >&2; exit 1;; esac\ndone\n",
    );
    let (b, c) = (clone(&sb, &bare, "b"), clone(&sb, &bare, "c"));
    set_image(&sb, &b, &format!("{}:2.1.0", svc(1)));
    scripted_receive_pack(
        &sb,
        &b,
        &[(1, "before", land_first(&c, &format!("{}:2.3.0", svc(2))))],
    );

    let (out, json) = push(&sb, &b, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json["result"], "landed");
    assert_eq!(json["queue_ref"], Value::Null);
    let err = stderr(&out);
    assert_eq!(err.matches("falling back").count(), 1, "{err}");
    assert!(err.contains("refs/heads/kustomerge/queue/*"), "{err}");
    let text = remote_overlay(&sb, &bare);
    assert!(text.contains(&format!("{}\n    newTag: 2.1.0", svc(1))));
}
