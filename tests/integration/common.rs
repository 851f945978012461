//! Shared test utilities: the binary under test, hermetic git, temp repos.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `kustomerge` binary cargo built for this test run.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kustomerge"))
}

/// The repository's `fixtures/` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The shared corpus of real kustomization files, if present on this machine.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus")
}

/// Reads a directory the tests need; missing data fails the test rather
/// than letting it pass on nothing.
pub fn data_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("test data {} is missing: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "test data {} is empty", dir.display());
    files
}

/// Makes a command hermetic: no system or global git config, a temp HOME,
/// a fixed identity and dates, English messages, and `kustomerge` on PATH.
pub fn hermetic(cmd: &mut Command, home: &Path) {
    let bin_dir = bin().parent().unwrap().to_path_buf();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin_dir];
    paths.extend(std::env::split_paths(&path));
    cmd.env("PATH", std::env::join_paths(paths).unwrap())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join(".gitconfig"))
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_CONFIG_PARAMETERS")
        .env_remove("GIT_CONFIG_COUNT");
}

/// A temp directory with its own HOME, where git and kustomerge run hermetically.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// A hermetic `git` command run in `cwd`.
    pub fn git_cmd(&self, cwd: &Path) -> Command {
        let mut cmd = Command::new("git");
        hermetic(&mut cmd, &self.home());
        cmd.current_dir(cwd);
        cmd
    }

    /// Runs git in `cwd`, asserting success; returns stdout.
    pub fn git(&self, cwd: &Path, args: &[&str]) -> String {
        let out = self.git_cmd(cwd).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs git in `cwd` and returns the raw output, whatever the status.
    pub fn git_out(&self, cwd: &Path, args: &[&str]) -> Output {
        self.git_cmd(cwd).args(args).output().unwrap()
    }

    /// A hermetic `kustomerge` command run in `cwd`.
    pub fn kustomerge_cmd(&self, cwd: &Path) -> Command {
        let mut cmd = Command::new(bin());
        hermetic(&mut cmd, &self.home());
        cmd.current_dir(cwd);
        cmd
    }

    /// Runs kustomerge in `cwd` and returns its output.
    pub fn kustomerge(&self, cwd: &Path, args: &[&str]) -> Output {
        self.kustomerge_cmd(cwd).args(args).output().unwrap()
    }

    /// A new repository at `name` with `main` checked out.
    pub fn repo(&self, name: &str) -> PathBuf {
        let dir = self.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        self.git(&dir, &["init", "-q", "-b", "main"]);
        dir
    }

    /// Registers the driver in `repo`'s own config and attributes, the way
    /// the README's manual setup does.
    pub fn register_driver(&self, repo: &Path) {
        let line = kustomerge::driver::DriverLine {
            program: "kustomerge".into(),
            policy: kustomerge::version::SameImagePolicy::Conflict,
        };
        self.git(
            repo,
            &["config", "merge.kustomize.driver", &line.to_string()],
        );
        let attrs = repo.join(".git/info/attributes");
        std::fs::create_dir_all(attrs.parent().unwrap()).unwrap();
        std::fs::write(
            attrs,
            "kustomization.yaml merge=kustomize\nkustomization.yml merge=kustomize\nKustomization merge=kustomize\n",
        )
        .unwrap();
    }

    /// Writes `content` to `repo/path` and commits it.
    pub fn commit_file(&self, repo: &Path, path: &str, content: &[u8], msg: &str) {
        let full = repo.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(&full, content).unwrap();
        self.git(repo, &["add", "--", path]);
        self.git(repo, &["commit", "-q", "-m", msg]);
    }
}

/// Whether this git passes its conflict labels to drivers (`%S %X %Y`, 2.44+).
pub fn git_passes_labels(sb: &Sandbox) -> bool {
    let version = sb.git(sb.path(), &["--version"]);
    let mut numbers = version
        .trim_start_matches("git version ")
        .split(|c: char| !c.is_ascii_digit())
        .map(|n| n.parse::<u32>().unwrap_or(0));
    (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0)) >= (2, 44)
}

/// stderr as text, for assertion messages.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `git merge-file` on the same inputs, with the labels and marker size the
/// driver uses: what git would have done without us.
pub fn git_merge_file(sb: &Sandbox, inputs: [&[u8]; 3]) -> (Vec<u8>, i32) {
    let dir = tempfile::tempdir_in(sb.path()).unwrap();
    for (name, bytes) in ["o", "a", "b"].iter().zip(inputs) {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let size = format!(
        "--marker-size={}",
        kustomerge::merge::text::marker_size(7, inputs)
    );
    let out = sb.git_out(
        dir.path(),
        &[
            "merge-file",
            "-p",
            &size,
            "-L",
            "ours",
            "-L",
            "base",
            "-L",
            "theirs",
            "a",
            "o",
            "b",
        ],
    );
    (out.stdout, out.status.code().unwrap())
}

/// The overlay the git tests race on: two images, one with a Flux marker.
pub const BASE: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
images:
- name: api
  newName: ghcr.io/acme/api
  newTag: 1.0.0 # {\"$imagepolicy\": \"flux-system:api:tag\"}
- name: web
  newName: ghcr.io/acme/web
  newTag: 2.0.0
";

/// `text` with one more image appended.
pub fn with_image(text: &str, name: &str, tag: &str) -> String {
    format!("{text}- name: {name}\n  newName: ghcr.io/acme/{name}\n  newTag: {tag}\n")
}

/// A repo with `files` (path, content) and BASE committed on main, then a
/// `job` branch committing `job` and main committing `main` as the
/// kustomization, each a child of that base.
pub fn diverged_with(sb: &Sandbox, files: &[(&str, &str)], job: &str, main: &str) -> PathBuf {
    let repo = sb.repo("config");
    for (path, content) in files {
        sb.commit_file(&repo, path, content.as_bytes(), path);
    }
    diverge(sb, &repo, "kustomization.yaml", [job, main], "job");
    repo
}

/// Commits BASE at `path` on main, then `job` (with the commit message
/// `subject`) on a new `job` branch and `main` on main, each a child of that
/// base. Leaves main checked out.
pub fn diverge(sb: &Sandbox, repo: &Path, path: &str, [job, main]: [&str; 2], subject: &str) {
    sb.commit_file(repo, path, BASE.as_bytes(), "base");
    sb.git(repo, &["checkout", "-q", "-b", "job"]);
    sb.commit_file(repo, path, job.as_bytes(), subject);
    sb.git(repo, &["checkout", "-q", "main"]);
    sb.commit_file(repo, path, main.as_bytes(), "main");
}

/// The job appends `cron`, main appends `mailer`: plain git conflicts on
/// this (both append at the same place).
pub fn diverged(sb: &Sandbox) -> PathBuf {
    diverged_with(
        sb,
        &[],
        &with_image(BASE, "cron", "4.0.0"),
        &with_image(BASE, "mailer", "5.0.0"),
    )
}

/// What `diverged` merges to: main's append, then the job's.
pub fn both_appended() -> String {
    with_image(&with_image(BASE, "mailer", "5.0.0"), "cron", "4.0.0")
}

/// Whether `kubectl` is installed; tests that build overlays skip without
/// it on a developer's machine, and fail without it in CI (`CI` set).
pub fn kubectl_available() -> bool {
    let found = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok();
    require_in_ci(found, "kubectl", "a test that builds overlays")
}

/// Whether `tool` was `found`: a test without it skips loudly on a
/// developer's machine (what it skips is `what`), and fails in CI (`CI` set),
/// so that CI never passes on a check it did not run.
pub fn require_in_ci(found: bool, tool: &str, what: &str) -> bool {
    assert!(
        found || std::env::var_os("CI").is_none(),
        "{tool} is required in CI (CI is set) but was not found"
    );
    if !found {
        eprintln!("{tool} not installed; SKIPPING {what}");
    }
    found
}

/// What `kubectl kustomize DIR` prints, asserting the build succeeds;
/// `None` where kubectl is missing (see [`kubectl_available`]).
pub fn kubectl_build(dir: &Path) -> Option<String> {
    if !kubectl_available() {
        return None;
    }
    let built = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "kubectl kustomize {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&built.stderr)
    );
    Some(String::from_utf8(built.stdout).unwrap())
}

/// `diverged`, checked out on `job`, after checking that plain git's rebase
/// stops on it (and aborting that rebase).
pub fn job_plain_git_cannot_rebase(sb: &Sandbox) -> PathBuf {
    let repo = diverged(sb);
    sb.git(&repo, &["checkout", "-q", "job"]);
    let plain = sb.git_out(&repo, &["rebase", "main"]);
    assert!(
        !plain.status.success(),
        "plain git was expected to stop on both-append"
    );
    sb.git(&repo, &["rebase", "--abort"]);
    repo
}

/// A hermetic `kustomerge` command in `repo` with no git identity at all, as
/// in a fresh CI container (`user.useConfigOnly` stops git guessing one).
pub fn without_identity(sb: &Sandbox, repo: &Path) -> Command {
    sb.git(repo, &["config", "user.useConfigOnly", "true"]);
    let mut cmd = sb.kustomerge_cmd(repo);
    for var in [
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ] {
        cmd.env_remove(var);
    }
    cmd
}
