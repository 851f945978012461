//! N pipelines racing to bump their own image in one overlay: the engine of
//! `kustomerge demo`, the push tests and `benches/push-race.sh`.
//!
//! Each job is what a CI pipeline does, as real processes: clone a bare repo
//! on local disk, "build" (a random sleep of up to a second, so that finishes
//! interleave), set its own image tag, commit, push. Two ways of doing the
//! last steps are compared:
//!
//! - [`Pipeline::PlainGit`]: the hand-written loop found in CI configs: a
//!   text replace of the tag, `git commit`, `git push`, and on rejection
//!   `git pull --rebase` and push again, up to five retries, no jitter; a
//!   failed rebase is aborted and the job fails.
//! - [`Pipeline::Kustomerge`]: `kustomerge set-image --commit`, then
//!   `kustomerge push` (combining: a job that loses a race queues its commit
//!   and the next winner carries it);
//! - [`Pipeline::KustomergeAlone`]: the same with `push --no-combine`, where
//!   every job races on its own until it lands.
//!
//! The remote is reached through wrapper scripts around `git-upload-pack`
//! and `git-receive-pack` (set as `remote.origin.uploadpack`/`receivepack`):
//! they log each call, so server calls are counted from the server's side
//! rather than from what a job says of itself, and can add a latency, since
//! a hosted remote's round trip is what makes races long and calls costly.
//!
//! Everything runs with a throwaway HOME and git config (no system or global
//! config, a fixed identity), so the result doesn't depend on the machine
//! and works where git has never been configured.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::git::Git;
use crate::kustomization::Document;
use crate::push::backoff::Rng;

/// Where the overlay lives in the repository.
pub const OVERLAY: &str = "overlays/prod/kustomization.yaml";

/// How many times the plain-git loop retries a rejected push.
pub const PLAIN_RETRIES: u32 = 5;

/// At most this many jobs run at once (each is a handful of short processes).
const MAX_PARALLEL: usize = 128;

/// How the overlay writes its image list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Multi-line `- name:` entries.
    #[default]
    Block,
    /// `images: [{...}, {...}]` on one line.
    Flow,
}

/// How a job sets its tag and pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pipeline {
    /// Text replace, commit, push; `git pull --rebase` and retry on rejection.
    PlainGit,
    /// `kustomerge set-image --commit`, then `kustomerge push`.
    Kustomerge,
    /// The same with `kustomerge push --no-combine`.
    KustomergeAlone,
}

/// The image job `i` owns.
pub fn image(i: usize) -> String {
    format!("registry.example.com/shop/svc-{i:02}")
}

/// The tag job `i` sets (the overlay starts every image at `1.0.0`).
pub fn tag(i: usize) -> String {
    format!("1.1.{i}")
}

/// A production overlay with one image per job, written in `layout`, with the
/// things real overlays carry around the images: resources, a namespace,
/// labels, comments, Flux `$imagepolicy` markers and a `replicas:` list.
pub fn overlay(jobs: usize, layout: Layout) -> String {
    let mut s = String::from(
        "# Production overlay for the shop. CI bumps the image tags below;\n\
         # Flux image automation owns the ones with an $imagepolicy marker.\n\
         apiVersion: kustomize.config.k8s.io/v1beta1\n\
         kind: Kustomization\n\
         namespace: shop-prod\n\
         resources:\n  - ../../base\n  - ingress.yaml\n\
         labels:\n  - pairs:\n      app.kubernetes.io/part-of: shop\n      env: prod\n",
    );
    match layout {
        Layout::Block => {
            s.push_str("images:\n");
            for i in 0..jobs {
                let marker = if i < 2 {
                    format!(" # {{\"$imagepolicy\": \"flux-system:svc-{i:02}:tag\"}}")
                } else {
                    String::new()
                };
                s.push_str(&format!(
                    "  - name: {}\n    newTag: 1.0.0{marker}\n",
                    image(i)
                ));
            }
        }
        Layout::Flow => {
            // Flow entries share one line, so markers can't sit on a tag.
            s.push_str(
                "# {\"$imagepolicy\": \"flux-system:shop\"} is set per image in the Flux repo\n",
            );
            let entries: Vec<String> = (0..jobs)
                .map(|i| format!("{{name: {}, newTag: 1.0.0}}", image(i)))
                .collect();
            s.push_str(&format!("images: [{}]\n", entries.join(", ")));
        }
    }
    s.push_str("replicas:\n  - name: svc-00\n    count: 3\n");
    s
}

/// What one job ended with.
#[derive(Debug, Clone)]
pub struct JobResult {
    /// Its push landed.
    pub landed: bool,
    /// Pushes after the first.
    pub retries: u32,
    /// Calls its git made to the server (clone, fetches, pushes, ls-remotes),
    /// as the wrapper scripts logged them.
    pub server_calls: u32,
    /// Another job's push carried its edit.
    pub carried: bool,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// One run of all jobs.
#[derive(Debug, Clone)]
pub struct RaceReport {
    /// The column heading.
    pub label: String,
    /// Per job, in job order.
    pub jobs: Vec<JobResult>,
    /// From the first clone to the last job's end.
    pub wall: Duration,
    /// Jobs whose tag is not in the final overlay on the remote.
    pub missing: Vec<usize>,
}

impl RaceReport {
    /// Jobs whose push landed.
    pub fn landed(&self) -> usize {
        self.jobs.iter().filter(|j| j.landed).count()
    }

    /// Retries over all jobs.
    pub fn retries(&self) -> u32 {
        self.jobs.iter().map(|j| j.retries).sum()
    }

    /// Server calls per job, on average.
    pub fn calls_per_job(&self) -> f64 {
        let calls: u32 = self.jobs.iter().map(|j| j.server_calls).sum();
        f64::from(calls) / self.jobs.len().max(1) as f64
    }

    /// Jobs another job's push carried.
    pub fn carried(&self) -> usize {
        self.jobs.iter().filter(|j| j.carried).count()
    }
}

/// A temp directory holding a seed repository and a hermetic git setup.
#[derive(Debug)]
pub struct Arena {
    scratch: tempfile::TempDir,
    env: Vec<(String, String)>,
    exe: PathBuf,
    jobs: usize,
    layout: Layout,
    /// The `git-upload-pack` wrapper (clone needs it named).
    upload_pack: PathBuf,
    /// Where the wrappers log each call's working directory.
    calls_log: PathBuf,
}

impl Arena {
    /// Creates the temp dir, a throwaway HOME and a seed repository holding
    /// the overlay for `jobs` jobs, with every call to the server (each
    /// fetch, push, ls-remote or clone) taking `latency` longer, as over a
    /// network. `exe` is the kustomerge binary to race.
    pub fn with_latency(
        exe: &Path,
        jobs: usize,
        layout: Layout,
        latency: Duration,
    ) -> anyhow::Result<Self> {
        Self::build(exe, jobs, layout, latency, None)
    }

    /// An arena where the jobs race by construction, whatever the machine's
    /// load: every push waits until every job has cloned and made its first
    /// fetch, so all first pushes start from the same tip and all but one
    /// lose. `kustomerge push` fetches once before its first push.
    pub fn racing(exe: &Path, jobs: usize, layout: Layout) -> anyhow::Result<Self> {
        Self::build(exe, jobs, layout, Duration::ZERO, Some(2 * jobs))
    }

    /// `gate`: pushes wait until the server has seen this many fetches and
    /// clones.
    fn build(
        exe: &Path,
        jobs: usize,
        layout: Layout,
        latency: Duration,
        gate: Option<usize>,
    ) -> anyhow::Result<Self> {
        let scratch = crate::fs::scratch("race")?;
        let home = scratch.path().join("home");
        std::fs::create_dir_all(&home)?;
        let calls_log = scratch.path().join("server-calls.log");
        let wrapper = |service: &str| -> anyhow::Result<PathBuf> {
            let path = scratch.path().join(format!("{service}-wrapper"));
            let wait = match gate {
                Some(n) if service == "receive-pack" => format!(
                    "until [ \"$(grep -c '^upload-pack ' '{}')\" -ge {n} ]; do sleep 0.02; done\n",
                    calls_log.display()
                ),
                _ => String::new(),
            };
            // git runs the service in the client's repository top level, so
            // the working directory names the job; one short line per call
            // is a single append, whole even when jobs log at once.
            std::fs::write(
                &path,
                format!(
                    "#!/bin/sh\nprintf '{service} %s\\n' \"$PWD\" >> '{}'\n{wait}sleep {:.3}\nexec git {service} \"$@\"\n",
                    calls_log.display(),
                    latency.as_secs_f64()
                ),
            )?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            }
            Ok(path)
        };
        let upload_pack = wrapper("upload-pack")?;
        let receive_pack = wrapper("receive-pack")?;
        let global = home.join(".gitconfig");
        std::fs::write(
            &global,
            format!(
                "[remote \"origin\"]\n\tuploadpack = {}\n\treceivepack = {}\n",
                upload_pack.display(),
                receive_pack.display()
            ),
        )?;
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let env = [
            ("HOME", path(&home)),
            ("XDG_CONFIG_HOME", path(&home.join(".config"))),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
            ("GIT_CONFIG_GLOBAL", path(&global)),
            ("GIT_AUTHOR_NAME", "CI".into()),
            ("GIT_AUTHOR_EMAIL", "ci@example.com".into()),
            ("GIT_COMMITTER_NAME", "CI".into()),
            ("GIT_COMMITTER_EMAIL", "ci@example.com".into()),
            ("GIT_TERMINAL_PROMPT", "0".into()),
            ("LC_ALL", "C".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let arena = Self {
            scratch,
            env,
            exe: exe.to_owned(),
            jobs,
            layout,
            upload_pack,
            calls_log,
        };
        arena.seed()?;
        Ok(arena)
    }

    /// The arena's directory.
    pub fn path(&self) -> &Path {
        self.scratch.path()
    }

    fn seed(&self) -> anyhow::Result<()> {
        let seed = self.path().join("seed");
        let files = [
            (OVERLAY.to_owned(), overlay(self.jobs, self.layout)),
            (
                "overlays/prod/ingress.yaml".to_owned(),
                "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: shop\nspec:\n  rules:\n    - host: shop.example.com\n".to_owned(),
            ),
            (
                "base/kustomization.yaml".to_owned(),
                "resources:\n  - deployment.yaml\n".to_owned(),
            ),
            ("base/deployment.yaml".to_owned(), self.base_deployment()),
        ];
        for (path, text) in files {
            let full = seed.join(path);
            std::fs::create_dir_all(full.parent().context("a seed file has no parent")?)?;
            std::fs::write(&full, text)?;
        }
        self.git(&seed, &["init", "-q", "-b", "main"])?;
        self.git(&seed, &["add", "-A"])?;
        self.git(&seed, &["commit", "-q", "-m", "shop: production overlay"])?;
        Ok(())
    }

    fn base_deployment(&self) -> String {
        let containers: String = (0..self.jobs)
            .map(|i| {
                format!(
                    "        - name: svc-{i:02}\n          image: {}:0.0.0\n",
                    image(i)
                )
            })
            .collect();
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  template:\n    spec:\n      containers:\n{containers}"
        )
    }

    /// A fresh bare remote, cloned from the seed.
    pub fn remote(&self, name: &str) -> anyhow::Result<PathBuf> {
        let bare = self.path().join(format!("{name}.git"));
        let seed = self.path().join("seed");
        self.git(
            self.path(),
            &[
                "clone",
                "-q",
                "--bare",
                &seed.to_string_lossy(),
                &bare.to_string_lossy(),
            ],
        )?;
        Ok(bare)
    }

    /// A hermetic git command run in `dir`.
    pub fn git_command(&self, dir: &Path, args: &[&str]) -> Command {
        let git = self
            .env
            .iter()
            .fold(Git::in_dir(dir), |g, (k, v)| g.with_env(k, v));
        isolated(git.command(args))
    }

    /// Runs hermetic git in `dir`, requiring success; returns stdout.
    pub fn git(&self, dir: &Path, args: &[&str]) -> anyhow::Result<String> {
        let out = output(self.git_command(dir, args))?;
        if !out.status.success() {
            bail!("git {} failed: {}", args.join(" "), last_line(&out));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    }

    /// A hermetic kustomerge command run in `dir`.
    pub fn kustomerge_command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.current_dir(dir)
            .args(args)
            .stdin(std::process::Stdio::null());
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        isolated(cmd)
    }

    /// Runs every job against a fresh remote, `parallel` or one at a time,
    /// and checks which tags made it into the remote's final overlay.
    pub fn race(
        &self,
        label: &str,
        pipeline: Pipeline,
        parallel: bool,
    ) -> anyhow::Result<RaceReport> {
        let name: String = label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let bare = self.remote(&name)?;
        let work = self.path().join(&name);
        std::fs::create_dir_all(&work)?;
        let next = AtomicUsize::new(0);
        let results = Mutex::new((0..self.jobs).map(|_| None).collect::<Vec<_>>());
        let workers = if parallel {
            self.jobs.clamp(1, MAX_PARALLEL)
        } else {
            1
        };
        let started = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= self.jobs {
                            break;
                        }
                        let result =
                            self.job(pipeline, &bare, &work.join(format!("job-{i:02}")), i);
                        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                    }
                });
            }
        });
        let wall = started.elapsed();
        let jobs: Vec<JobResult> = results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .map(|r| match r {
                Some(Ok(r)) => r,
                Some(Err(err)) => JobResult {
                    landed: false,
                    retries: 0,
                    server_calls: 0,
                    carried: false,
                    error: Some(format!("{err:#}")),
                },
                None => unreachable!("every job index is taken by a worker"),
            })
            .collect();
        let mut jobs = jobs;
        for (i, job) in jobs.iter_mut().enumerate() {
            job.server_calls = self.calls(&work.join(format!("job-{i:02}")))?;
        }
        let missing = self.missing(&bare)?;
        Ok(RaceReport {
            label: label.to_owned(),
            jobs,
            wall,
            missing,
        })
    }

    /// One CI pipeline: clone, build, set the tag, commit, push.
    fn job(
        &self,
        pipeline: Pipeline,
        bare: &Path,
        dir: &Path,
        i: usize,
    ) -> anyhow::Result<JobResult> {
        let parent = dir.parent().context("a job dir has no parent")?;
        self.git(
            parent,
            &[
                "clone",
                "-q",
                "--upload-pack",
                &self.upload_pack.to_string_lossy(),
                &bare.to_string_lossy(),
                &dir.to_string_lossy(),
            ],
        )?;
        // Threads of one process may read the same clock: the job number keeps
        // their build times apart.
        let build = Rng::seeded(Rng::from_entropy().next_u64() ^ i as u64)
            .duration_up_to(Duration::from_secs(1));
        std::thread::sleep(build);
        match pipeline {
            Pipeline::PlainGit => self.plain_git(dir, i),
            Pipeline::Kustomerge => self.kustomerge(dir, i, true),
            Pipeline::KustomergeAlone => self.kustomerge(dir, i, false),
        }
    }

    /// The server calls the job in `dir` made: its clone (run from the
    /// parent directory, one per job) and every call from its clone.
    fn calls(&self, dir: &Path) -> anyhow::Result<u32> {
        let log = std::fs::read_to_string(&self.calls_log).unwrap_or_default();
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
        let from_clone = log
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter(|(_, cwd)| Path::new(cwd) == dir)
            .count();
        Ok(1 + u32::try_from(from_clone)?)
    }

    fn plain_git(&self, dir: &Path, i: usize) -> anyhow::Result<JobResult> {
        let file = dir.join(OVERLAY);
        let text = std::fs::read_to_string(&file)?;
        std::fs::write(&file, replace_tag(&text, &image(i), &tag(i))?)?;
        let msg = format!("deploy svc-{i:02} {}", tag(i));
        self.git(dir, &["commit", "-q", "-a", "-m", &msg])?;
        for retries in 0..=PLAIN_RETRIES {
            if output(self.git_command(dir, &["push", "-q", "origin", "HEAD:main"]))?
                .status
                .success()
            {
                return Ok(JobResult {
                    landed: true,
                    retries,
                    server_calls: 0,
                    carried: false,
                    error: None,
                });
            }
            if retries == PLAIN_RETRIES {
                break;
            }
            let pull =
                output(self.git_command(dir, &["pull", "-q", "--rebase", "origin", "main"]))?;
            if !pull.status.success() {
                // What careful hand-written loops do: never leave the clone mid-rebase.
                output(self.git_command(dir, &["rebase", "--abort"]))?;
                return Ok(JobResult {
                    landed: false,
                    retries,
                    server_calls: 0,
                    carried: false,
                    error: Some(format!("git pull --rebase failed: {}", last_line(&pull))),
                });
            }
        }
        Ok(JobResult {
            landed: false,
            retries: PLAIN_RETRIES,
            server_calls: 0,
            carried: false,
            error: Some(format!("still rejected after {PLAIN_RETRIES} retries")),
        })
    }

    fn kustomerge(&self, dir: &Path, i: usize, combine: bool) -> anyhow::Result<JobResult> {
        let arg = format!("{}:{}", image(i), tag(i));
        let msg = format!("deploy svc-{i:02} {}", tag(i));
        let set = output(self.kustomerge_command(
            dir,
            &["set-image", "-f", OVERLAY, "--commit", "-m", &msg, &arg],
        ))?;
        if !set.status.success() {
            bail!("kustomerge set-image failed: {}", last_line(&set));
        }
        let mut args = vec!["push", "--json"];
        if !combine {
            args.push("--no-combine");
        }
        let push = output(self.kustomerge_command(dir, &args))?;
        let report: serde_json::Value = serde_json::from_slice(&push.stdout)
            .with_context(|| format!("kustomerge push printed no JSON: {}", last_line(&push)))?;
        let attempts = report["attempts"].as_u64().unwrap_or(1) as u32;
        let carried = report["result"] == "carried";
        let landed = push.status.success() && (report["result"] == "landed" || carried);
        Ok(JobResult {
            landed,
            retries: attempts.saturating_sub(1),
            server_calls: 0,
            carried,
            error: (!landed).then(|| last_line(&push)),
        })
    }

    /// Jobs whose tag is not what the remote's overlay now holds.
    fn missing(&self, bare: &Path) -> anyhow::Result<Vec<usize>> {
        let text = self.git(bare, &["show", &format!("main:{OVERLAY}")])?;
        let tags = final_tags(&text, self.jobs);
        Ok((0..self.jobs)
            .filter(|&i| tags[i].as_deref() != Some(tag(i).as_str()))
            .collect())
    }
}

/// The tag of every job's image in an overlay (`None` when absent, or when
/// the file no longer parses, e.g. conflict markers were committed).
fn final_tags(text: &str, jobs: usize) -> Vec<Option<String>> {
    let doc = Document::parse(text).ok();
    let images = doc.as_ref().and_then(|d| d.list("images"));
    (0..jobs)
        .map(|i| {
            let images = images?;
            let name = image(i);
            images
                .entries
                .iter()
                .find(|e| e.name(text) == Some(name.as_str()))
                .and_then(|e| e.get(text, "newTag"))
                .map(str::to_owned)
        })
        .collect()
}

/// The plain-git edit: a text replace of the first `newTag:` value after the
/// image's name, the way `sed` one-liners in CI do it.
fn replace_tag(text: &str, name: &str, tag: &str) -> anyhow::Result<String> {
    let at = text
        .find(&format!("name: {name}"))
        .with_context(|| format!("{name} is not in the overlay"))?;
    let key = at
        + text[at..]
            .find("newTag: ")
            .context("no newTag after the name")?
        + "newTag: ".len();
    let len = text[key..]
        .find(|c: char| c.is_whitespace() || c == ',' || c == '}')
        .unwrap_or(text.len() - key);
    Ok(format!("{}{tag}{}", &text[..key], &text[key + len..]))
}

fn output(mut cmd: Command) -> anyhow::Result<Output> {
    cmd.output()
        .with_context(|| format!("could not run {:?}", cmd.get_program()))
}

fn last_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(no output)")
        .trim()
        .to_owned()
}

/// The reports side by side, as a markdown table.
pub fn table(title: &str, reports: &[RaceReport]) -> String {
    let rows: [(&str, Vec<String>); 7] = [
        (
            "landed",
            reports
                .iter()
                .map(|r| format!("{}/{}", r.landed(), r.jobs.len()))
                .collect(),
        ),
        (
            "failed",
            reports
                .iter()
                .map(|r| (r.jobs.len() - r.landed()).to_string())
                .collect(),
        ),
        (
            "retries",
            reports.iter().map(|r| r.retries().to_string()).collect(),
        ),
        (
            "carried by another job",
            reports.iter().map(|r| r.carried().to_string()).collect(),
        ),
        (
            "server calls per job",
            reports
                .iter()
                .map(|r| format!("{:.1}", r.calls_per_job()))
                .collect(),
        ),
        (
            "wall seconds",
            reports
                .iter()
                .map(|r| format!("{:.1}", r.wall.as_secs_f64()))
                .collect(),
        ),
        (
            "lost updates (tag not in final file)",
            reports
                .iter()
                .map(|r| r.missing.len().to_string())
                .collect(),
        ),
    ];
    let mut out = format!(
        "| {title} | {} |\n|---|{}\n",
        reports
            .iter()
            .map(|r| r.label.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        "---:|".repeat(reports.len())
    );
    for (name, cells) in rows {
        out.push_str(&format!("| {name} | {} |\n", cells.join(" | ")));
    }
    out
}

/// Drops what a calling git (a hook, a driver) may have exported, so the
/// pipelines' git sees only their own repository and config.
fn isolated(mut cmd: Command) -> Command {
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overlay_parses_in_both_layouts_with_every_image_at_the_start_tag() {
        for layout in [Layout::Block, Layout::Flow] {
            let text = overlay(12, layout);
            let tags = final_tags(&text, 12);
            assert!(
                tags.iter().all(|t| t.as_deref() == Some("1.0.0")),
                "{layout:?}"
            );
        }
        assert!(
            overlay(3, Layout::Block)
                .contains("newTag: 1.0.0 # {\"$imagepolicy\": \"flux-system:svc-01:tag\"}")
        );
    }

    #[test]
    fn replace_tag_changes_only_that_images_tag() {
        for layout in [Layout::Block, Layout::Flow] {
            let text = overlay(12, layout);
            let edited = replace_tag(&text, &image(1), &tag(1)).unwrap();
            let tags = final_tags(&edited, 12);
            assert_eq!(tags[1].as_deref(), Some("1.1.1"), "{layout:?}");
            assert!(
                tags.iter()
                    .enumerate()
                    .all(|(i, t)| i == 1 || t.as_deref() == Some("1.0.0"))
            );
        }
        let edited = replace_tag(&overlay(3, Layout::Block), &image(1), &tag(1)).unwrap();
        assert!(edited.contains("newTag: 1.1.1 # {\"$imagepolicy\": \"flux-system:svc-01:tag\"}"));
    }

    #[test]
    fn table_puts_runs_side_by_side() {
        let report = |label: &str, landed: usize| RaceReport {
            label: label.into(),
            jobs: (0..4)
                .map(|i| JobResult {
                    landed: i < landed,
                    retries: 1,
                    server_calls: 3,
                    carried: i == 0,
                    error: None,
                })
                .collect(),
            wall: Duration::from_millis(1500),
            missing: (landed..4).collect(),
        };
        let t = table("4 jobs", &[report("plain", 3), report("kustomerge", 4)]);
        assert!(
            t.starts_with("| 4 jobs | plain | kustomerge |\n|---|---:|---:|\n"),
            "{t}"
        );
        assert!(t.contains("| landed | 3/4 | 4/4 |"));
        assert!(t.contains("| lost updates (tag not in final file) | 1 | 0 |"));
        assert!(t.contains("| wall seconds | 1.5 | 1.5 |"));
        assert!(t.contains("| server calls per job | 3.0 | 3.0 |"));
        assert!(t.contains("| carried by another job | 1 | 1 |"));
    }
}
