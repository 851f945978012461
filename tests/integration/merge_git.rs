//! The real git drives the real driver: rebase, pull --rebase, merge and
//! cherry-pick in temp repos with hermetic config, and kubectl builds the
//! merged overlay.

use std::path::Path;

use crate::common::{
    BASE, Sandbox, both_appended, diverged, diverged_with, git_passes_labels,
    job_plain_git_cannot_rebase, kubectl_build,
};

fn read(repo: &Path) -> String {
    std::fs::read_to_string(repo.join("kustomization.yaml")).unwrap()
}

#[test]
fn rebase_that_plain_git_stops_on_completes_with_the_driver() {
    let sb = Sandbox::new();
    let repo = job_plain_git_cannot_rebase(&sb);

    sb.register_driver(&repo);
    sb.git(&repo, &["rebase", "main"]);
    // During a rebase %A is upstream (main) and %B the replayed commit, so
    // main's append comes first and the job's follows it.
    assert_eq!(read(&repo), both_appended());
}

#[test]
fn pull_rebase_merges_flow_style_bumps_from_two_clones() {
    let sb = Sandbox::new();
    let flow = "resources:\n- deployment.yaml\nimages: [{name: api, newTag: 1.0.0}, {name: web, newTag: 2.0.0}]\n";
    let seed = sb.repo("seed");
    sb.commit_file(&seed, "kustomization.yaml", flow.as_bytes(), "seed");
    let bare = sb.path().join("remote.git");
    sb.git(
        sb.path(),
        &[
            "clone",
            "-q",
            "--bare",
            seed.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let clone = |name: &str| {
        let dir = sb.path().join(name);
        sb.git(
            sb.path(),
            &["clone", "-q", bare.to_str().unwrap(), dir.to_str().unwrap()],
        );
        sb.register_driver(&dir);
        dir
    };
    let (one, two) = (clone("one"), clone("two"));
    sb.commit_file(
        &one,
        "kustomization.yaml",
        flow.replace("1.0.0", "1.0.1").as_bytes(),
        "bump api",
    );
    sb.commit_file(
        &two,
        "kustomization.yaml",
        flow.replace("2.0.0", "2.0.1").as_bytes(),
        "bump web",
    );
    sb.git(&two, &["push", "-q", "origin", "main"]);
    sb.git(&one, &["pull", "--rebase", "-q", "origin", "main"]);
    assert_eq!(
        read(&one),
        flow.replace("1.0.0", "1.0.1").replace("2.0.0", "2.0.1")
    );
}

#[test]
fn merge_and_cherry_pick_use_the_driver() {
    let sb = Sandbox::new();
    let repo = diverged(&sb);
    sb.register_driver(&repo);
    sb.git(&repo, &["merge", "-q", "--no-edit", "job"]);
    // In a merge %A is HEAD (main), so main's entry comes first.
    assert_eq!(read(&repo), both_appended());

    sb.git(&repo, &["reset", "-q", "--hard", "HEAD~1"]);
    sb.git(&repo, &["cherry-pick", "job"]);
    assert_eq!(read(&repo), both_appended());
}

#[test]
fn a_real_conflict_stops_the_rebase_with_markers_around_one_field_in_diff3_style() {
    let sb = Sandbox::new();
    let repo = diverged_with(
        &sb,
        &[],
        &BASE.replace("2.0.0", "2.2.0"),
        &BASE.replace("2.0.0", "2.1.0").replace("1.0.0", "1.0.1"),
    );
    sb.register_driver(&repo);
    sb.git(&repo, &["config", "merge.conflictStyle", "diff3"]);
    sb.git(&repo, &["checkout", "-q", "job"]);
    let out = sb.git_out(&repo, &["rebase", "main"]);
    assert!(!out.status.success());
    let got = read(&repo);
    // git's own labels (2.44+): the rebased-onto tip, and the replayed commit.
    let job = sb.git(&repo, &["rev-parse", "--short", "job"]);
    let job = format!("{} (job)", job.trim());
    let [ours, base, theirs] = if git_passes_labels(&sb) {
        ["HEAD".to_owned(), format!("parent of {job}"), job]
    } else {
        ["ours", "base", "theirs"].map(str::to_owned)
    };
    let want = BASE.replace("1.0.0", "1.0.1").replace(
        "  newTag: 2.0.0\n",
        &format!("<<<<<<< {ours}\n  newTag: 2.1.0\n||||||| {base}\n  newTag: 2.0.0\n=======\n  newTag: 2.2.0\n>>>>>>> {theirs}\n"),
    );
    assert_eq!(got, want);
    let unmerged = sb.git(&repo, &["ls-files", "-u"]);
    assert!(unmerged.contains("kustomization.yaml"));
    sb.git(&repo, &["rebase", "--abort"]);
}

#[test]
fn kubectl_builds_the_merged_overlay_with_both_images() {
    let sb = Sandbox::new();
    let deployment = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
      - name: api
        image: api:0.0.1
      - name: web
        image: web:0.0.1
";
    let repo = diverged_with(
        &sb,
        &[("deployment.yaml", deployment)],
        &BASE.replace("1.0.0", "1.0.1"),
        &BASE.replace("2.0.0", "2.0.1"),
    );
    sb.register_driver(&repo);
    sb.git(&repo, &["merge", "-q", "--no-edit", "job"]);
    let Some(yaml) = kubectl_build(&repo) else {
        return;
    };
    assert!(yaml.contains("image: ghcr.io/acme/api:1.0.1"), "{yaml}");
    assert!(yaml.contains("image: ghcr.io/acme/web:2.0.1"), "{yaml}");
}

/// A criss-cross history: git first merges the two merge bases (an inner
/// call of the driver, without labels on the registered line), then merges
/// with that result as the base. A real conflict must still stop the merge,
/// never be resolved silently by the virtual base.
#[test]
fn a_criss_cross_merge_never_resolves_a_real_conflict_silently() {
    let sb = Sandbox::new();
    let repo = diverged_with(
        &sb,
        &[],
        &BASE.replace("2.0.0", "2.2.0"),
        &BASE.replace("2.0.0", "2.1.0"),
    );
    sb.register_driver(&repo);
    // Cross-merge each way, resolving by keeping one's own side.
    let resolve = |branch: &str, other: &str, keep: &str| {
        sb.git(&repo, &["checkout", "-q", branch]);
        let _ = sb.git_out(&repo, &["merge", "-q", "--no-edit", other]);
        std::fs::write(repo.join("kustomization.yaml"), BASE.replace("2.0.0", keep)).unwrap();
        sb.git(
            &repo,
            &["commit", "-qam", &format!("merge {other} into {branch}")],
        );
    };
    sb.git(&repo, &["branch", "main-tip", "main"]);
    sb.git(&repo, &["branch", "job-tip", "job"]);
    resolve("main", "job-tip", "2.1.0");
    resolve("job", "main-tip", "2.2.0");
    sb.git(&repo, &["checkout", "-q", "main"]);
    let out = sb.git_out(&repo, &["merge", "--no-edit", "job"]);
    assert!(
        !out.status.success(),
        "a real conflict was resolved silently"
    );
    let text = read(&repo);
    assert!(
        text.contains("<<<<<<<") && text.contains("2.1.0") && text.contains("2.2.0"),
        "{text}"
    );
}
