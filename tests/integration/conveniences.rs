//! `set-image` / `set-replicas --dry-run` (the diff, nothing written) and the
//! `--json` shapes of `set-image`, `set-replicas` and `doctor`.

use crate::common::{Sandbox, stderr};

const FILE: &str = "resources:\n- deploy.yaml\nimages:\n- name: api # flux marker\n  newTag: \"1.0\"\n- name: web\n  newTag: v1\nreplicas:\n- name: web\n  count: 2\n";

fn setup(sb: &Sandbox) -> std::path::PathBuf {
    let dir = sb.path().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("kustomization.yaml"), FILE).unwrap();
    dir
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

/// The keys of a JSON object, sorted.
fn keys(v: &serde_json::Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn set_image_dry_run_prints_the_exact_diff_and_writes_nothing() {
    let sb = Sandbox::new();
    let dir = setup(&sb);
    let path = dir.join("kustomization.yaml");
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let out = sb.kustomerge(&dir, &["set-image", "--dry-run", "api:1.1", "db:16"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "--- ./kustomization.yaml\n+++ ./kustomization.yaml\n@@ -2,7 +2,9 @@\n \
         - deploy.yaml\n images:\n - name: api # flux marker\n-  newTag: \"1.0\"\n+  newTag: \"1.1\"\n\
         +- name: db\n+  newTag: \"16\"\n - name: web\n   newTag: v1\n replicas:\n"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FILE);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    // No temp file left behind either.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    // The diff is exactly what the real run then does: applied by git to
    // a copy of the file, it gives the real run's bytes.
    let copy = sb.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::write(copy.join("kustomization.yaml"), FILE).unwrap();
    let dry = sb.kustomerge(&dir, &["set-image", "--dry-run", "api:1.1", "db:16"]);
    std::fs::write(sb.path().join("edit.diff"), &dry.stdout).unwrap();
    let applied = sb.git_out(&copy, &["apply", "-p0", "--unsafe-paths", "../edit.diff"]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let real = sb.kustomerge(&dir, &["set-image", "api:1.1", "db:16"]);
    assert!(real.status.success(), "{}", stderr(&real));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(copy.join("kustomization.yaml")).unwrap()
    );
    assert_ne!(std::fs::read_to_string(&path).unwrap(), FILE);
}

#[test]
fn dry_run_of_a_no_op_prints_nothing_and_a_missing_newline_is_marked() {
    let sb = Sandbox::new();
    let dir = setup(&sb);
    let out = sb.kustomerge(&dir, &["set-image", "--dry-run", "web:v1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let path = dir.join("kustomization.yaml");
    std::fs::write(&path, "replicas:\n- name: web\n  count: 2").unwrap();
    let out = sb.kustomerge(
        &dir,
        &[
            "set-replicas",
            "--dry-run",
            "-f",
            "kustomization.yaml",
            "web=5",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "--- kustomization.yaml\n+++ kustomization.yaml\n@@ -1,3 +1,3 @@\n replicas:\n - name: web\n-  count: 2\n\\ No newline at end of file\n+  count: 5\n\\ No newline at end of file\n"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "replicas:\n- name: web\n  count: 2"
    );
}

#[test]
fn dry_run_refuses_commit_and_still_honours_expect() {
    let sb = Sandbox::new();
    let dir = setup(&sb);
    let out = sb.kustomerge(&dir, &["set-image", "--dry-run", "--commit", "api:2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = sb.kustomerge(
        &dir,
        &["set-image", "--dry-run", "--expect", "0.9", "api:2"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap(),
        FILE
    );
}

const SETTER_KEYS: [&str; 8] = [
    "changed",
    "committed",
    "diff",
    "dry_run",
    "file",
    "outcome",
    "refused",
    "skipped",
];

#[test]
fn setter_json_has_one_shape_for_every_outcome() {
    let sb = Sandbox::new();
    let dir = sb.repo("repo");
    sb.commit_file(&dir, "kustomization.yaml", FILE.as_bytes(), "init");

    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["set-image", "--json", "--dry-run", "api:1.1"],
            0,
            "would-update",
        ),
        (&["set-image", "--json", "web:v1"], 0, "unchanged"),
        (
            &["set-image", "--json", "--expect", "0.9", "api:2"],
            3,
            "refused",
        ),
        (
            &["set-image", "--json", "--no-downgrade", "api:0.5", "web:v2"],
            0,
            "updated",
        ),
        (
            &["set-replicas", "--json", "--commit", "web=4"],
            0,
            "updated",
        ),
        (
            &["set-replicas", "--json", "--dry-run", "web=4"],
            0,
            "unchanged",
        ),
    ];
    let mut seen = Vec::new();
    for (args, code, outcome) in cases {
        let out = sb.kustomerge(&dir, args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        let v = json(&out);
        assert_eq!(keys(&v), SETTER_KEYS, "{args:?}");
        assert_eq!(v["outcome"], outcome, "{args:?}: {v}");
        assert_eq!(v["file"], "./kustomization.yaml");
        assert_eq!(v["dry_run"], args.contains(&"--dry-run"), "{args:?}");
        assert_eq!(
            v["changed"],
            outcome == "updated" || outcome == "would-update",
            "{args:?}"
        );
        assert_eq!(
            v["diff"].as_str().unwrap().is_empty(),
            !v["changed"].as_bool().unwrap(),
            "{args:?}"
        );
        seen.push(v);
    }
    assert_eq!(seen[2]["refused"], "--expect \"0.9\": `api` is at \"1.0\"");
    assert_eq!(seen[3]["skipped"][0]["name"], "api");
    assert_eq!(
        seen[3]["skipped"][0]["reason"],
        "`api` 0.5 is older than 1.0"
    );
    assert_eq!(seen[3]["skipped"].as_array().unwrap().len(), 1);
    assert_eq!(seen[4]["committed"], true);
    assert!(
        seen.iter()
            .enumerate()
            .all(|(i, v)| (v["committed"] == true) == (i == 4))
    );
    // The commit really happened, with its trailer.
    let log = sb.git(&dir, &["log", "-1", "--format=%B"]);
    assert!(
        log.contains("Kustomerge-Set-Replicas: kustomization.yaml web=4"),
        "{log}"
    );
}

#[test]
fn doctor_json_lists_every_check_and_exits_as_the_text_does() {
    let sb = Sandbox::new();
    let repo = sb.repo("repo");
    // -C: run from elsewhere, about the repository.
    let before = sb.kustomerge(sb.path(), &["doctor", "--json", "-C", "repo"]);
    assert_eq!(before.status.code(), Some(1), "{}", stderr(&before));
    let v = json(&before);
    assert_eq!(keys(&v), ["checks", "problems", "warnings"]);
    let checks = v["checks"].as_array().unwrap();
    let text = sb.kustomerge(&repo, &["doctor"]);
    let text = String::from_utf8(text.stdout).unwrap();
    // The same checks as the text, one object per `✓ ! ✗` line.
    let marks = text
        .lines()
        .filter(|l| l.starts_with(['✓', '!', '✗']))
        .count();
    assert_eq!(checks.len(), marks, "{text}");
    for c in checks {
        assert_eq!(keys(c), ["fix", "message", "status"]);
        let status = c["status"].as_str().unwrap();
        assert!(["ok", "warn", "fail"].contains(&status), "{c}");
        assert_eq!(c["fix"].is_null(), status == "ok", "{c}");
        assert!(text.contains(c["message"].as_str().unwrap()), "{c}");
    }
    let fails = checks.iter().filter(|c| c["status"] == "fail").count();
    assert_eq!(v["problems"], fails);
    assert!(fails >= 1);

    let install = sb.kustomerge(&repo, &["install", "--local"]);
    assert!(install.status.success(), "{}", stderr(&install));
    let after = sb.kustomerge(sb.path(), &["doctor", "-C", "repo", "--json"]);
    assert_eq!(
        after.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&after.stdout)
    );
    assert_eq!(json(&after)["problems"], 0);

    let missing = sb.kustomerge(sb.path(), &["doctor", "-C", "nowhere"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("-C nowhere"),
        "{}",
        stderr(&missing)
    );
}
