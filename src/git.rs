//! The only place that runs git.
//!
//! Everything goes through the `git` binary as a subprocess rather than
//! libgit2: users' credential helpers, SSH setups and config then work
//! unchanged, and `git merge-file` is byte-for-byte git's own line merge
//! (xdiff's zealous mode, CRLF markers, the repo's `merge.conflictStyle`),
//! which no pure-Rust merge reproduces. See README, "Crates".

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, bail};

/// A git invocation context: working directory, `-c` settings and environment.
#[derive(Debug, Clone, Default)]
pub struct Git {
    dir: Option<PathBuf>,
    config: Vec<String>,
    env: Vec<(String, String)>,
}

impl Git {
    /// Runs git in the current directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs git in `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
            ..Self::default()
        }
    }

    /// Adds `-c key=value` to every invocation (how `push` activates the driver
    /// without touching any config file).
    #[must_use]
    pub fn with_config(mut self, key: &str, value: &str) -> Self {
        self.config.push(format!("{key}={value}"));
        self
    }

    /// Sets an environment variable for every invocation.
    #[must_use]
    pub fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The directory git runs in, if not the current one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// A `git` command with this context applied and stdin closed, so that git
    /// never waits for input (no editor, no credential prompt on a terminal).
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new("git");
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir);
        }
        for c in &self.config {
            cmd.arg("-c").arg(c);
        }
        cmd.args(args).stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs git and returns its raw output, whatever the exit status.
    pub fn output<I, S>(&self, args: I) -> anyhow::Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(args);
        cmd.output()
            .with_context(|| format!("could not run {cmd:?}; is git installed and on PATH?"))
    }

    /// Runs git with `input` on stdin (`--stdin` and `--batch` modes, which
    /// answer for many objects in one process) and requires success; returns
    /// the raw stdout.
    pub fn run_with_input<I, S>(&self, args: I, input: &[u8]) -> anyhow::Result<Vec<u8>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        use std::io::Write;
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let mut cmd = self.command(&args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("could not run {cmd:?}; is git installed and on PATH?"))?;
        // Written from a thread: git may fill its stdout pipe before it has
        // read all of stdin, and then both sides would wait for ever.
        let mut stdin = child.stdin.take().context("git's stdin was not piped")?;
        let input = input.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output()?;
        let written = writer
            .join()
            .map_err(|_| anyhow::anyhow!("the thread writing to git panicked"))?;
        if !out.status.success() {
            return Err(failed(&args, &out));
        }
        written.context("could not write to git's stdin")?;
        Ok(out.stdout)
    }

    /// Runs git, requires success, and returns stdout with the final newline trimmed.
    pub fn run<I, S>(&self, args: I) -> anyhow::Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut s = String::from_utf8_lossy(&self.output_ok(args)?).into_owned();
        while s.ends_with('\n') || s.ends_with('\r') {
            s.pop();
        }
        Ok(s)
    }

    /// Runs git and reports only whether it succeeded.
    pub fn succeeds<I, S>(&self, args: I) -> bool
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.output(args).is_ok_and(|o| o.status.success())
    }

    /// The operation a repository is in the middle of (a rebase, a merge,
    /// ...), which a commit or a checkout would interfere with.
    pub fn operation_in_progress(&self) -> anyhow::Result<Option<&'static str>> {
        const STATES: [(&str, &str); 5] = [
            ("rebase-merge", "rebase"),
            ("rebase-apply", "rebase or am"),
            ("MERGE_HEAD", "merge"),
            ("CHERRY_PICK_HEAD", "cherry-pick"),
            ("REVERT_HEAD", "revert"),
        ];
        let root = self.run(["rev-parse", "--show-toplevel"])?;
        let mut args = vec!["rev-parse"];
        for (state, _) in &STATES {
            args.extend(["--git-path", state]);
        }
        let paths = self.run(args)?;
        Ok(paths
            .lines()
            .zip(STATES)
            .find(|(path, _)| Path::new(&root).join(path).exists())
            .map(|(_, (_, op))| op))
    }

    /// Which identity git lacks to make a commit (`author` or `committer`),
    /// if any: checked up front, so that a step never fails halfway.
    pub fn missing_identity(&self) -> Option<&'static str> {
        [
            ("GIT_AUTHOR_IDENT", "author"),
            ("GIT_COMMITTER_IDENT", "committer"),
        ]
        .into_iter()
        .find(|(var, _)| !self.succeeds(["var", var]))
        .map(|(_, who)| who)
    }

    /// The raw bytes of `path` (relative to the root, `/`-separated) in
    /// `commit`; `None` when the commit or the path does not exist.
    pub fn blob_at(&self, commit: &str, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let spec = format!("{commit}:{path}");
        if !self.succeeds(["cat-file", "-e", &spec]) {
            return Ok(None);
        }
        self.blob(&spec).map(Some)
    }

    /// A blob's raw bytes: no filters, no trimmed newline.
    pub fn blob(&self, object: &str) -> anyhow::Result<Vec<u8>> {
        let out = self.output(["cat-file", "blob", object])?;
        if !out.status.success() {
            bail!(
                "git cat-file blob {object} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(out.stdout)
    }

    /// Objects' raw bytes from one `git cat-file --batch`, in the order
    /// asked (`<sha>` or `<commit>:<path>`): `None` for one that is missing
    /// or not a blob (a tree or a submodule under a file's name).
    pub fn blobs<S: AsRef<str>>(&self, objects: &[S]) -> anyhow::Result<Vec<Option<Vec<u8>>>> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let input: String = objects
            .iter()
            .map(|o| format!("{}\n", o.as_ref()))
            .collect();
        let raw = self.run_with_input(["cat-file", "--batch"], input.as_bytes())?;
        let mut rest = raw.as_slice();
        let mut out = Vec::with_capacity(objects.len());
        for object in objects {
            let eol = rest
                .iter()
                .position(|&b| b == b'\n')
                .context("git cat-file's output ended early")?;
            let header = String::from_utf8_lossy(&rest[..eol]).into_owned();
            rest = &rest[eol + 1..];
            // `<sha> <type> <size>`, or `<object> missing` (the object as
            // asked, so a path may hold spaces).
            let mut words = header.rsplitn(3, ' ');
            let (size, kind) = (words.next().unwrap_or_default(), words.next());
            let Some(kind) = kind.filter(|_| words.next().is_some()) else {
                out.push(None);
                continue;
            };
            let Ok(size) = size.parse::<usize>() else {
                out.push(None); // `<path with spaces> missing`
                continue;
            };
            let body = rest.get(..size).with_context(|| {
                format!("git cat-file's output for {} ended early", object.as_ref())
            })?;
            out.push((kind == "blob").then(|| body.to_vec()));
            rest = rest.get(size + 1..).unwrap_or_default();
        }
        Ok(out)
    }

    /// Every file path of a commit, `/`-separated from the root.
    pub fn tree_paths(&self, commit: &str) -> anyhow::Result<Vec<String>> {
        let out = self.output_ok(["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit])?;
        Ok(nul_separated(&out))
    }

    /// The paths a pushed commit adds or modifies (renames as additions),
    /// compared with what `remote` has: its tip `remote_sha` when this
    /// clone knows it, else what none of `remote`'s branches has yet, else
    /// the whole commit.
    pub fn pushed_paths(
        &self,
        remote: &str,
        local: &str,
        remote_sha: &str,
    ) -> anyhow::Result<Vec<String>> {
        let known = !is_zero_sha(remote_sha)
            && self.succeeds(["cat-file", "-e", &format!("{remote_sha}^{{commit}}")]);
        let changes = ["--name-only", "-z", "--no-renames", "--diff-filter=d"];
        let out = if known {
            let mut args = vec!["diff"];
            args.extend(changes);
            args.extend([remote_sha, local]);
            self.output_ok(args)?
        } else {
            let pattern = format!("--remotes={remote}");
            let has_remote = !self
                .run(["rev-parse", &pattern])
                .unwrap_or_default()
                .is_empty();
            if has_remote {
                let mut args = vec!["log", "--format="];
                args.extend(changes);
                args.extend([local, "--not", &pattern]);
                self.output_ok(args)?
            } else {
                return self.tree_paths(local);
            }
        };
        Ok(nul_separated(&out))
    }

    /// Runs git, requires success, and returns the raw stdout.
    pub fn output_ok<I, S>(&self, args: I) -> anyhow::Result<Vec<u8>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let out = self.output(&args)?;
        if !out.status.success() {
            return Err(failed(&args, &out));
        }
        Ok(out.stdout)
    }

    /// Whether git runs inside a work tree (`resolve` reads the index only there).
    pub fn in_work_tree(&self) -> bool {
        self.run(["rev-parse", "--is-inside-work-tree"])
            .is_ok_and(|out| out == "true")
    }

    /// The paths with unmerged index entries (`git ls-files -u`), as git
    /// prints them: relative to where git runs. `paths` are matched
    /// literally (no globs, no pathspec magic); none means the whole
    /// repository.
    pub fn unmerged(&self, paths: &[&Path]) -> anyhow::Result<Vec<Unmerged>> {
        let mut args: Vec<&OsStr> = ["--literal-pathspecs", "ls-files", "-u", "-z", "--"]
            .map(OsStr::new)
            .to_vec();
        if paths.is_empty() {
            // The top of the repository, whatever the directory: `:/` is
            // pathspec magic, so not literal.
            args.remove(0);
            args.push(OsStr::new(":/"));
        }
        args.extend(paths.iter().map(|p| p.as_os_str()));
        let listed = self.output_ok(&args)?;
        let mut found: Vec<Unmerged> = Vec::new();
        // Each record: `<mode> <object> <stage>\t<path>`.
        for record in listed.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            let record = String::from_utf8_lossy(record);
            let (meta, path) = record
                .split_once('\t')
                .with_context(|| format!("unexpected git ls-files line {record:?}"))?;
            let mut fields = meta.split(' ').skip(1);
            let (Some(object), Some(stage)) = (fields.next(), fields.next()) else {
                bail!("unexpected git ls-files line {record:?}");
            };
            let stage: usize = match stage.parse() {
                Ok(n @ 1..=3) => n,
                _ => bail!("unexpected stage in git ls-files line {record:?}"),
            };
            if found.last().is_none_or(|u| u.path != path) {
                found.push(Unmerged {
                    path: path.to_owned(),
                    stages: Default::default(),
                });
            }
            if let Some(entry) = found.last_mut() {
                entry.stages[stage - 1] = Some(object.to_owned());
            }
        }
        Ok(found)
    }

    /// An index stage of `path` (as [`Self::unmerged`] prints it) as a
    /// checkout would write it: smudge filters and end-of-line conversion
    /// applied, so it compares with the file in the work tree.
    pub fn stage_as_checked_out(&self, stage: usize, path: &str) -> anyhow::Result<Vec<u8>> {
        // `./` makes the path relative to where git runs, as ls-files printed it.
        self.output_ok(["cat-file", "--filters", &format!(":{stage}:./{path}")])
    }

    /// Stages `path` (`git add`).
    pub fn add(&self, path: &Path) -> anyhow::Result<()> {
        self.run([OsStr::new("add"), OsStr::new("--"), path.as_os_str()])
            .map(drop)
    }

    /// `git merge-file -p`: git's own three-way line merge of three files.
    ///
    /// Run inside a repository it honours `merge.conflictStyle`, as git's
    /// built-in merge would. `labels` are (current, base, other).
    pub fn merge_file(
        &self,
        current: &Path,
        base: &Path,
        other: &Path,
        labels: [&str; 3],
        marker_size: usize,
    ) -> anyhow::Result<MergeFileOutput> {
        let marker = format!("--marker-size={marker_size}");
        let mut args: Vec<&OsStr> = vec![OsStr::new("merge-file"), OsStr::new("-p")];
        args.push(OsStr::new(&marker));
        for label in &labels {
            args.push(OsStr::new("-L"));
            args.push(OsStr::new(label));
        }
        args.extend([current.as_os_str(), base.as_os_str(), other.as_os_str()]);
        let out = self.output(&args)?;
        // The status is the number of conflicts (capped at 127), or negative
        // (255) on error.
        match out.status.code() {
            Some(n) if (0..=127).contains(&n) => Ok(MergeFileOutput {
                bytes: out.stdout,
                conflicts: n as usize,
            }),
            _ => bail!(
                "git merge-file failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
    }
}

/// One ref update git's pre-push hook is told about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    /// The commit pushed.
    pub local_sha: String,
    /// What the remote has there now (zeros: nothing).
    pub remote_sha: String,
}

/// Reads git's pre-push hook input, `<local ref> <local sha> <remote ref>
/// <remote sha>` per line; a deletion (a zero local sha) publishes nothing
/// and is left out.
pub fn read_pre_push(lines: impl std::io::BufRead) -> anyhow::Result<Vec<PushedRef>> {
    let mut out = Vec::new();
    for line in lines.lines() {
        let line = line.context("could not read the pre-push input")?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let [_, local, _, remote] = words[..] else {
            if line.trim().is_empty() {
                continue;
            }
            bail!(
                "unexpected pre-push input line {line:?} (want `<local ref> <sha> <remote ref> <sha>`)"
            );
        };
        if !is_zero_sha(local) {
            out.push(PushedRef {
                local_sha: local.to_owned(),
                remote_sha: remote.to_owned(),
            });
        }
    }
    Ok(out)
}

/// git's all-zero object name: "no object".
fn is_zero_sha(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

/// `-z` output's fields, raw paths included.
fn nul_separated(out: &[u8]) -> Vec<String> {
    out.split(|&b| b == 0)
        .filter(|f| !f.is_empty())
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}

/// The error for a git run that failed: the command line, its status and
/// what it said.
fn failed(args: &[std::ffi::OsString], out: &Output) -> anyhow::Error {
    anyhow::anyhow!(
        "git {} failed ({}): {}",
        args.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    )
}

/// One path's unmerged index entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmerged {
    /// The path, as `git ls-files` prints it.
    pub path: String,
    /// The objects at stages 1 (base), 2 (ours, the current side) and 3
    /// (theirs); `None` where git left a stage out (no base for an add/add,
    /// no side for a modify/delete).
    pub stages: [Option<String>; 3],
}

/// The result of `git merge-file -p`.
#[derive(Debug)]
pub struct MergeFileOutput {
    /// The merged bytes, with conflict markers if `conflicts > 0`.
    pub bytes: Vec<u8>,
    /// The number of conflicts git reported (at most 127).
    pub conflicts: usize,
}
