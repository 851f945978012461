//! Setup: `install`, `uninstall`, `doctor` and `completions`, each in a temp
//! HOME and temp repos with hermetic git config (see `common`). The promises
//! under test are the ones adoption rests on: doctor tells a broken setup
//! from a working one, install is idempotent, uninstall leaves the bytes it
//! found, a user's own pre-push hook keeps running, and a rebase really goes
//! through the driver once `install` has registered it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{
    BASE, Sandbox, bin, both_appended, job_plain_git_cannot_rebase, stderr, with_image,
};

/// What every driver line `install` writes now ends with.
const CURRENT_ARGS: &str = "--base-label=%S --current-label=%X --other-label=%Y -- %O %A %B %L %P";

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs kustomerge and asserts it succeeded; returns stderr, where install reports.
fn kustomerge_ok(sb: &Sandbox, cwd: &Path, args: &[&str]) -> String {
    let out = sb.kustomerge(cwd, args);
    assert!(
        out.status.success(),
        "kustomerge {args:?} failed ({}):\n{}{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    stderr(&out)
}

/// A file's bytes, or `None` if it doesn't exist.
fn snapshot(path: &Path) -> Option<Vec<u8>> {
    fs::read(path).ok()
}

fn gitconfig(sb: &Sandbox) -> PathBuf {
    sb.home().join(".gitconfig")
}

/// A repo with one overlay's kustomization.yaml committed.
fn repo_with_overlay(sb: &Sandbox) -> PathBuf {
    let repo = sb.repo("config");
    sb.commit_file(
        &repo,
        "overlays/prod/kustomization.yaml",
        BASE.as_bytes(),
        "base",
    );
    repo
}

#[test]
fn doctor_fails_until_install_then_passes() {
    let sb = Sandbox::new();
    let repo = repo_with_overlay(&sb);

    let before = sb.kustomerge(&repo, &["doctor"]);
    let report = stdout(&before);
    assert_eq!(before.status.code(), Some(1), "{report}");
    assert!(
        report.contains("✗ merge.kustomize.driver is not set"),
        "{report}"
    );
    assert!(
        report.contains("overlays/prod/kustomization.yaml (merge: unspecified)"),
        "{report}"
    );

    kustomerge_ok(&sb, &repo, &["install", "--local"]);
    let after = sb.kustomerge(&repo, &["doctor"]);
    let report = stdout(&after);
    assert_eq!(after.status.code(), Some(0), "{report}");
    assert!(!report.contains('✗'), "{report}");
    assert!(
        report.contains("✓ all 1 kustomization file(s) select the driver"),
        "{report}"
    );
    // The hook is optional and the fresh .gitattributes is not committed yet:
    // warnings, which don't fail doctor.
    assert!(
        report.contains("! no pre-push hook runs kustomerge check"),
        "{report}"
    );
    assert!(
        report.contains("! .gitattributes has uncommitted changes"),
        "{report}"
    );
}

#[test]
fn doctor_outside_a_repo_runs_only_the_global_checks() {
    let sb = Sandbox::new();
    kustomerge_ok(&sb, &sb.home(), &["install"]);
    let out = sb.kustomerge(&sb.home(), &["doctor"]);
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(
        report.contains("✓ driver program ") && report.contains("(kustomerge "),
        "{report}"
    );
    assert!(report.contains("checks skipped"), "{report}");
    assert!(!report.contains("pre-push"), "{report}");
}

#[test]
fn doctor_flags_each_broken_driver_setup() {
    let sb = Sandbox::new();
    let home = sb.home();
    let cases = [
        // `.name` without `.driver` is fatal in git, not a fallback.
        ("merge.kustomize.name", "kustomerge", "lacks command line"),
        (
            "merge.kustomize.driver",
            "/nonexistent/kustomerge merge %O %A %B %L %P",
            "does not run",
        ),
        (
            "merge.kustomize.driver",
            "kustomerge-missing merge %O %A %B %L %P",
            "is not on PATH",
        ),
        (
            "merge.kustomize.driver",
            "kustomerge merge",
            "lacks %O %A %B",
        ),
    ];
    for (key, value, complaint) in cases {
        // Fails harmlessly in the first round, when there is no section yet.
        sb.git_out(
            &home,
            &["config", "--global", "--remove-section", "merge.kustomize"],
        );
        sb.git(&home, &["config", "--global", key, value]);
        let out = sb.kustomerge(&home, &["doctor"]);
        let report = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{key}={value}:\n{report}");
        assert!(report.contains(complaint), "{key}={value}:\n{report}");
    }
}

#[test]
fn doctor_fails_without_committer_identity() {
    let sb = Sandbox::new();
    kustomerge_ok(&sb, &sb.home(), &["install"]);
    // Without useConfigOnly, git would guess an identity from the host name,
    // which works on some machines and not on others.
    sb.git(
        &sb.home(),
        &["config", "--global", "user.useConfigOnly", "true"],
    );
    let out = sb
        .kustomerge_cmd(&sb.home())
        .arg("doctor")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("EMAIL")
        .output()
        .unwrap();
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("✗ no committer identity"), "{report}");
}

#[test]
fn install_twice_then_uninstall_leaves_the_global_config_as_it_was() {
    let existing: &[u8] = b"[user]\n\tname = Someone\n\temail = someone@example.com\n\
        [merge \"kustomize\"]\n\trecursive = binary\n[alias]\n\tst = status\n";
    for before in [None, Some(existing)] {
        let sb = Sandbox::new();
        if let Some(bytes) = before {
            fs::write(gitconfig(&sb), bytes).unwrap();
        }
        kustomerge_ok(&sb, &sb.home(), &["install"]);
        let installed = snapshot(&gitconfig(&sb));
        assert_eq!(
            sb.git(
                &sb.home(),
                &["config", "--global", "merge.kustomize.driver"]
            ),
            format!("kustomerge merge {CURRENT_ARGS}\n")
        );

        let again = kustomerge_ok(&sb, &sb.home(), &["install", "--global"]);
        assert!(again.contains("nothing changed"), "{again}");
        assert_eq!(snapshot(&gitconfig(&sb)), installed);

        kustomerge_ok(&sb, &sb.home(), &["uninstall"]);
        assert_eq!(
            snapshot(&gitconfig(&sb)).as_deref(),
            before,
            "{}",
            String::from_utf8_lossy(&fs::read(gitconfig(&sb)).unwrap_or_default())
        );
        let nothing = kustomerge_ok(&sb, &sb.home(), &["uninstall"]);
        assert!(nothing.contains("nothing changed"), "{nothing}");
    }
}

#[test]
fn system_scope_is_refused_while_git_ignores_the_system_config() {
    // The sandbox sets GIT_CONFIG_NOSYSTEM, as CI jobs often do.
    let sb = Sandbox::new();
    for command in ["install", "uninstall"] {
        let out = sb.kustomerge(&sb.home(), &[command, "--system"]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("GIT_CONFIG_NOSYSTEM is set"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn uninstall_restores_a_driver_line_install_replaced() {
    let sb = Sandbox::new();
    let before = b"[merge \"kustomize\"]\n\tdriver = other-tool %A %O %B\n";
    fs::write(gitconfig(&sb), before).unwrap();

    kustomerge_ok(&sb, &sb.home(), &["install"]);
    // A second install with another policy changes the line again, but
    // uninstall still goes back to what was there before kustomerge.
    kustomerge_ok(
        &sb,
        &sb.home(),
        &["install", "--policy", "newest", "--absolute-path"],
    );
    let line = sb.git(
        &sb.home(),
        &["config", "--global", "merge.kustomize.driver"],
    );
    assert!(
        line.ends_with(&format!(
            "/kustomerge merge --same-image newest {CURRENT_ARGS}\n"
        )),
        "{line}"
    );
    // The absolute path works without kustomerge on PATH.
    let out = sb
        .kustomerge_cmd(&sb.home())
        .arg("doctor")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(
        stdout(&out).contains(&format!("✓ driver program {} runs", bin().display())),
        "{}",
        stdout(&out)
    );

    kustomerge_ok(&sb, &sb.home(), &["uninstall", "--global"]);
    assert_eq!(fs::read(gitconfig(&sb)).unwrap(), before);
}

/// The global config as an older `kustomerge install` left it: the driver
/// line without `--` or labels, and the undo log for it.
const OLD_INSTALL: &str = "[merge \"kustomize\"]\n\
    \tname = kustomization.yaml images merge (kustomerge)\n\
    \tdriver = kustomerge merge %O %A %B %L %P\n\
    [kustomerge \"install\"]\n\
    \tundo = created-config\n\
    \tundo = unset merge.kustomize.name\n\
    \tundo = unset merge.kustomize.driver\n";

#[test]
fn doctor_gives_the_exact_fix_for_an_older_driver_line() {
    let sb = Sandbox::new();
    fs::write(gitconfig(&sb), OLD_INSTALL).unwrap();
    let out = sb.kustomerge(&sb.home(), &["doctor"]);
    let report = stdout(&out);
    // The line still works (see driver_args), so it is a warning.
    assert_eq!(out.status.code(), Some(0), "{report}");
    assert!(
        report.contains("! merge.kustomize.driver is in an older kustomerge format: it lacks `--`")
            && report.contains("and git's conflict labels"),
        "{report}"
    );
    let fix = report
        .lines()
        .find_map(|l| l.strip_prefix("    fix: kustomerge install --global (or: "))
        .and_then(|l| l.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no install --global fix:\n{report}"));
    // The `git config` alternative, run as the user would paste it.
    let mut sh = std::process::Command::new("sh");
    crate::common::hermetic(&mut sh, &sb.home());
    let pasted = sh.arg("-c").arg(fix).output().unwrap();
    assert!(pasted.status.success(), "{fix}: {}", stderr(&pasted));
    let after = stdout(&sb.kustomerge(&sb.home(), &["doctor"]));
    assert!(!after.contains("older"), "{after}");
    assert!(
        after.contains(&format!(
            "✓ merge.kustomize.driver = kustomerge merge {CURRENT_ARGS}"
        )),
        "{after}"
    );

    // An absolute path in a repository's own config: install keeps both.
    let repo = repo_with_overlay(&sb);
    let old = format!(
        "{} merge --same-image newest %O %A %B %L %P",
        bin().display()
    );
    sb.git(&repo, &["config", "merge.kustomize.driver", &old]);
    let report = stdout(&sb.kustomerge(&repo, &["doctor"]));
    assert!(
        report.contains(
            "fix: kustomerge install --local --absolute-path --policy newest (or: git config --local"
        ),
        "{report}"
    );
}

#[test]
fn install_upgrades_an_older_kustomerge_line_and_uninstall_still_removes_all() {
    let sb = Sandbox::new();
    fs::write(gitconfig(&sb), OLD_INSTALL).unwrap();
    let said = kustomerge_ok(&sb, &sb.home(), &["install"]);
    assert!(
        said.contains("upgraded a driver line in an older kustomerge format"),
        "{said}"
    );
    assert_eq!(
        sb.git(
            &sb.home(),
            &["config", "--global", "merge.kustomize.driver"]
        ),
        format!("kustomerge merge {CURRENT_ARGS}\n")
    );
    let again = kustomerge_ok(&sb, &sb.home(), &["install"]);
    assert!(again.contains("nothing changed"), "{again}");
    // The older install's log still describes the key: uninstall removes
    // the upgraded line and the file that install created.
    kustomerge_ok(&sb, &sb.home(), &["uninstall"]);
    assert!(!gitconfig(&sb).exists());

    // A user's own line for another tool is replaced as before, not called old.
    let sb = Sandbox::new();
    fs::write(
        gitconfig(&sb),
        "[merge \"kustomize\"]\n\tdriver = other-tool merge %O %A %B\n",
    )
    .unwrap();
    let said = kustomerge_ok(&sb, &sb.home(), &["install"]);
    assert!(!said.contains("upgraded"), "{said}");
    assert!(said.contains("(was other-tool merge %O %A %B)"), "{said}");
}

#[test]
fn install_local_twice_then_uninstall_leaves_the_repo_as_it_was() {
    // Absent, and present with CRLF, an equivalent line spaced differently,
    // and no final newline.
    let existing: &[u8] = b"*.png binary\r\nkustomization.yml   merge=kustomize";
    for before in [None, Some(existing)] {
        let sb = Sandbox::new();
        let repo = repo_with_overlay(&sb);
        let attributes = repo.join(".gitattributes");
        if let Some(bytes) = before {
            fs::write(&attributes, bytes).unwrap();
        }
        let config = snapshot(&repo.join(".git/config"));
        let info = repo.join(".git/info/attributes");
        let info_before = snapshot(&info);

        kustomerge_ok(&sb, &repo, &["install", "--local"]);
        let installed = fs::read_to_string(&attributes).unwrap();
        let added = if before.is_some() {
            "*.png binary\r\nkustomization.yml   merge=kustomize\r\n\
             kustomization.yaml merge=kustomize\r\nKustomization merge=kustomize\r\n"
        } else {
            "kustomization.yaml merge=kustomize\nkustomization.yml merge=kustomize\n\
             Kustomization merge=kustomize\n"
        };
        assert_eq!(installed, added);

        // From a subdirectory, with the clone-only attributes file as well.
        let sub = repo.join("overlays/prod");
        let again = kustomerge_ok(&sb, &sub, &["install", "--local"]);
        assert!(again.contains("nothing changed"), "{again}");
        kustomerge_ok(&sb, &sub, &["install", "--local", "--no-commit-attributes"]);
        assert_eq!(fs::read_to_string(&attributes).unwrap(), installed);
        assert!(
            fs::read_to_string(&info)
                .unwrap()
                .contains("kustomization.yaml merge=kustomize\n")
        );

        kustomerge_ok(&sb, &sub, &["uninstall", "--local"]);
        assert_eq!(snapshot(&attributes).as_deref(), before);
        assert_eq!(snapshot(&info), info_before);
        assert_eq!(snapshot(&repo.join(".git/config")), config);
    }
}

fn write_hook(path: &Path, script: &str) {
    fs::write(path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// What a pre-push hook saw: its arguments, then its stdin.
fn recorder(log: &Path) -> String {
    format!("#!/bin/sh\n{{ echo \"$*\"; cat; }} > '{}'\n", log.display())
}

#[test]
fn an_existing_pre_push_hook_keeps_running_and_comes_back_on_uninstall() {
    let sb = Sandbox::new();
    let repo = repo_with_overlay(&sb);
    let remote = sb.path().join("remote.git");
    sb.git(sb.path(), &["init", "-q", "--bare", "remote.git"]);
    let url = remote.to_str().unwrap();
    sb.git(&repo, &["remote", "add", "origin", url]);

    let hook = repo.join(".git/hooks/pre-push");
    let chained = repo.join(".git/hooks/pre-push.kustomerge-chained");
    let own_log = sb.path().join("own-hook.log");
    let own_hook = recorder(&own_log);
    write_hook(&hook, &own_hook);
    let config = snapshot(&repo.join(".git/config"));

    kustomerge_ok(&sb, &repo, &["install", "--local", "--pre-push-hook"]);
    assert_eq!(fs::read_to_string(&chained).unwrap(), own_hook);
    let again = kustomerge_ok(&sb, &repo, &["install", "--local", "--pre-push-hook"]);
    assert!(again.contains("nothing changed"), "{again}");

    // A stand-in `kustomerge` first on PATH shows what the hook hands to
    // `check`, independently of how `check` itself behaves.
    let fake_bin = sb.path().join("fake-bin");
    fs::create_dir_all(&fake_bin).unwrap();
    let check_log = sb.path().join("check.log");
    write_hook(&fake_bin.join("kustomerge"), &recorder(&check_log));
    let path = format!(
        "{}:{}",
        fake_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let push = |sb: &Sandbox| {
        sb.git_cmd(&repo)
            .args(["push", "-q", "origin", "main"])
            .env("PATH", &path)
            .output()
            .unwrap()
    };

    let out = push(&sb);
    assert!(out.status.success(), "{}", stderr(&out));
    let head = sb.git(&repo, &["rev-parse", "HEAD"]);
    let refs = format!(
        "refs/heads/main {} refs/heads/main {}\n",
        head.trim(),
        "0".repeat(40)
    );
    assert_eq!(
        fs::read_to_string(&own_log).unwrap(),
        format!("origin {url}\n{refs}")
    );
    assert_eq!(
        fs::read_to_string(&check_log).unwrap(),
        format!("check --pre-push origin {url}\n{refs}")
    );

    // A refusal by the chained hook stops the push before `check` runs.
    write_hook(&chained, "#!/bin/sh\nexit 3\n");
    fs::remove_file(&check_log).unwrap();
    sb.commit_file(
        &repo,
        "overlays/prod/kustomization.yaml",
        with_image(BASE, "cron", "4.0.0").as_bytes(),
        "add cron",
    );
    assert!(!push(&sb).status.success());
    assert!(!check_log.exists());
    write_hook(&chained, &own_hook);

    kustomerge_ok(&sb, &repo, &["uninstall", "--local"]);
    assert_eq!(fs::read_to_string(&hook).unwrap(), own_hook);
    assert!(!chained.exists());
    assert_eq!(snapshot(&repo.join(".git/config")), config);
    fs::remove_file(&own_log).unwrap();
    let out = push(&sb);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!check_log.exists());
    assert!(
        fs::read_to_string(&own_log)
            .unwrap()
            .starts_with(&format!("origin {url}\n"))
    );
}

#[test]
fn install_refuses_a_hook_it_cannot_chain_and_changes_nothing() {
    let sb = Sandbox::new();
    let repo = repo_with_overlay(&sb);
    let hook = repo.join(".git/hooks/pre-push");
    let chained = repo.join(".git/hooks/pre-push.kustomerge-chained");
    write_hook(&hook, "#!/bin/sh\necho mine\n");
    write_hook(&chained, "#!/bin/sh\necho also mine\n");
    let config = snapshot(&repo.join(".git/config"));

    let out = sb.kustomerge(&repo, &["install", "--local", "--pre-push-hook"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&hook).unwrap(), "#!/bin/sh\necho mine\n");
    assert_eq!(
        fs::read_to_string(&chained).unwrap(),
        "#!/bin/sh\necho also mine\n"
    );
    assert_eq!(snapshot(&repo.join(".git/config")), config);
    assert!(!repo.join(".gitattributes").exists());
}

#[test]
fn rebase_goes_through_only_once_install_local_registered_the_driver() {
    let sb = Sandbox::new();
    let repo = job_plain_git_cannot_rebase(&sb);

    kustomerge_ok(&sb, &repo, &["install", "--local"]);
    let out = sb.git_out(&repo, &["rebase", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(repo.join("kustomization.yaml")).unwrap(),
        both_appended()
    );
}

#[test]
fn completions_for_bash_name_the_binary() {
    let sb = Sandbox::new();
    let out = sb.kustomerge(sb.path(), &["completions", "bash"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = stdout(&out);
    assert!(script.contains("kustomerge"), "{script}");
    assert!(script.contains("uninstall"), "{script}");
}

/// Issue 12, item 8: install, the user sets their own driver line, install
/// again (it replaces the user's line), uninstall: the user's line is back.
#[test]
fn uninstall_gives_back_a_line_the_user_set_between_installs() {
    let sb = Sandbox::new();
    let repo = repo_with_overlay(&sb);
    kustomerge_ok(&sb, &repo, &["install", "--local"]);
    let mine = "my-own-driver %O %A %B";
    sb.git(&repo, &["config", "merge.kustomize.driver", mine]);
    let said = kustomerge_ok(&sb, &repo, &["install", "--local"]);
    assert!(said.contains("was my-own-driver"), "{said}");
    kustomerge_ok(&sb, &repo, &["uninstall", "--local"]);
    assert_eq!(
        sb.git(&repo, &["config", "merge.kustomize.driver"]).trim(),
        mine
    );
    // And a plain reinstall (no foreign value in between) still restores
    // the state before the first install: nothing.
    let sb = Sandbox::new();
    let repo = repo_with_overlay(&sb);
    kustomerge_ok(&sb, &repo, &["install", "--local"]);
    kustomerge_ok(&sb, &repo, &["install", "--local", "--policy", "newest"]);
    kustomerge_ok(&sb, &repo, &["uninstall", "--local"]);
    let out = sb.git_out(&repo, &["config", "merge.kustomize.driver"]);
    assert!(!out.status.success(), "the driver line is still set");
}

/// `uninstall --local` does not silently delete a `.gitattributes` that has
/// been committed since `install` created it: it edits it and says so.
#[test]
fn uninstall_says_when_it_edits_a_committed_gitattributes() {
    let sb = Sandbox::new();
    let repo = repo_with_overlay(&sb);
    kustomerge_ok(&sb, &repo, &["install", "--local"]);
    sb.git(&repo, &["add", ".gitattributes"]);
    sb.git(&repo, &["commit", "-q", "-m", "use kustomerge"]);
    let said = kustomerge_ok(&sb, &repo, &["uninstall", "--local"]);
    assert!(repo.join(".gitattributes").exists(), "deleted: {said}");
    assert_eq!(fs::read(repo.join(".gitattributes")).unwrap(), b"");
    assert!(said.contains("has been committed since"), "{said}");
    assert!(said.contains("commit the change"), "{said}");
    assert!(said.contains("-- "), "{said}");
}
