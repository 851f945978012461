//! What `kustomerge doctor` checks: will git actually run the driver here?
//!
//! Every way of getting the setup wrong is silent in git: with no
//! `merge.kustomize.driver` it falls back to its line merge without a word,
//! with the binary missing it records a conflict with no markers, and with
//! only `.name` set it aborts every merge of these files
//! (gitattributes(5), "Defining a custom merge driver"). So doctor walks the
//! list of what a clone needs for the driver to be active (README, "The CI
//! recipe"): one [`Check`] per link, with the fix when it is broken.
//! Warnings (no pre-push hook, a shallow clone) are not problems. Outside a
//! work tree only the checks that don't depend on a repository run.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use serde::Serialize;

use super::{Config, find_on_path, hook_paths, is_executable, is_our_hook};
use crate::driver::{
    COMPANION_KEYS as DRIVER_COMPANION_KEYS, DriverLine, KEY as DRIVER_KEY, NAME as DRIVER,
    Registered, shell_quote, shell_words,
};
use crate::git::Git;
use crate::kustomization;
use crate::version::SameImagePolicy;

/// The oldest git the driver is tested with.
const OLDEST_GIT: (u32, u32) = (2, 39);
/// The first git that expands the `%S %X %Y` label placeholders.
const LABELS_GIT: (u32, u32) = (2, 44);

/// Files per `git check-attr` call, well below any argument-length limit.
const CHECK_ATTR_BATCH: usize = 500;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// This link holds.
    Ok,
    /// Works, but something will bite later (no hook, a shallow clone).
    Warn,
    /// The driver won't run, or git will refuse to merge.
    Fail,
}

/// One link of the chain git needs to run the driver, and how to fix it.
#[derive(Debug, Serialize)]
pub struct Check {
    /// How it came out.
    pub status: Status,
    /// What was checked, in words.
    #[serde(rename = "message")]
    pub what: String,
    /// The command or edit that fixes it, when it isn't ok.
    pub fix: Option<String>,
}

impl Check {
    fn ok(what: impl Into<String>) -> Self {
        Self {
            status: Status::Ok,
            what: what.into(),
            fix: None,
        }
    }

    fn warn(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            status: Status::Warn,
            what: what.into(),
            fix: Some(fix.into()),
        }
    }

    fn fail(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            status: Status::Fail,
            what: what.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Every check, in the order run, for the repository (if any) `git` runs in.
pub fn diagnose(git: &Git) -> anyhow::Result<Vec<Check>> {
    let mut checks = vec![git_version(git)];
    // Without a working git nothing else can be asked.
    if git.succeeds(["--version"]) {
        checks.extend(driver(git)?);
        checks.push(identity(git));
        let in_work_tree = git
            .run(["rev-parse", "--is-inside-work-tree"])
            .is_ok_and(|s| s == "true");
        if in_work_tree {
            checks.extend(attributes(git)?);
            checks.push(hook(git)?);
            checks.push(shallow(git)?);
        } else {
            checks.push(Check::ok(
                "not inside a git work tree: attribute, hook and clone checks skipped",
            ));
        }
    }
    Ok(checks)
}

fn git_version(git: &Git) -> Check {
    let fix = "install git 2.39 or newer";
    let text = match git.run(["--version"]) {
        Ok(text) => text,
        Err(e) => return Check::fail(format!("{e:#}"), fix),
    };
    match parse_git_version(&text) {
        None => Check::warn(
            format!("could not read the git version from `{text}`"),
            "check that `git` is git 2.39 or newer",
        ),
        Some(v) if v < OLDEST_GIT => Check::fail(
            format!("{text}: older than 2.39, the oldest git kustomerge supports"),
            fix,
        ),
        Some(v) if v < LABELS_GIT => Check::ok(format!(
            "{text} (supported; note: git passes conflict labels %S/%X/%Y from 2.44 on, so \
             conflicts here show ours/theirs)"
        )),
        Some(_) => Check::ok(format!("{text} (2.39 or newer)")),
    }
}

/// `git version 2.39.5 (Apple Git-154)` or `2.45.1.windows.1` → (major, minor).
fn parse_git_version(text: &str) -> Option<(u32, u32)> {
    let mut numbers = text
        .strip_prefix("git version ")?
        .split(|c: char| !c.is_ascii_digit())
        .map(str::parse);
    Some((numbers.next()?.ok()?, numbers.next()?.ok()?))
}

fn driver(git: &Git) -> anyhow::Result<Vec<Check>> {
    let config = Config::effective(git.clone());
    let default = DriverLine {
        program: "kustomerge".into(),
        policy: SameImagePolicy::Conflict,
    };
    let register = &format!(
        "kustomerge install (or: git config --global {DRIVER_KEY} {})",
        shell_quote(&default.to_string())
    );
    let Some(line) = config.get(DRIVER_KEY)? else {
        let mut stray = Vec::new();
        for key in DRIVER_COMPANION_KEYS {
            if config.get(key)?.is_some() {
                stray.push(key);
            }
        }
        return Ok(vec![if stray.is_empty() {
            Check::fail(
                format!(
                    "{DRIVER_KEY} is not set: git silently merges kustomization files line by line"
                ),
                register,
            )
        } else {
            Check::fail(
                format!(
                    "{} set without {DRIVER_KEY}: git aborts every merge of a kustomization file \
                     (\"custom merge driver {DRIVER} lacks command line\")",
                    stray.join(" and ")
                ),
                format!(
                    "{register}, or remove the section from the file that \
                     `git config --show-origin --get-regexp merge.{DRIVER}` names"
                ),
            )
        }]);
    };
    let missing: Vec<&str> = ["%O", "%A", "%B"]
        .into_iter()
        .filter(|p| !line.contains(p))
        .collect();
    let mut checks = vec![if missing.is_empty() {
        Check::ok(format!("{DRIVER_KEY} = {line}"))
    } else {
        Check::fail(
            format!(
                "{DRIVER_KEY} = {line}: lacks {}, so the driver never sees all three sides",
                missing.join(" ")
            ),
            register,
        )
    }];
    if let Some(old) = Registered::read(&line)
        && !old.missing.is_empty()
    {
        checks.push(Check::warn(
            format!(
                "{DRIVER_KEY} is in an older kustomerge format: it lacks {}",
                old.missing.join(", and ")
            ),
            upgrade(config.scope_of(DRIVER_KEY)?.as_deref(), &old.line),
        ));
    }
    checks.push(driver_program(&line));
    Ok(checks)
}

/// The exact fix for an outdated line: `install` for the file it lives in
/// (keeping its program and policy), or the `git config` line that does the same.
fn upgrade(scope: Option<&str>, old: &DriverLine) -> String {
    let line = shell_quote(&old.to_string());
    match scope {
        Some(scope @ ("local" | "global" | "system")) => {
            let mut install = format!("kustomerge install --{scope}");
            if old.program.contains('/') {
                install.push_str(" --absolute-path");
            }
            if old.policy == SameImagePolicy::Newest {
                install.push_str(" --policy newest");
            }
            format!("{install} (or: git config --{scope} {DRIVER_KEY} {line})")
        }
        Some("worktree") => format!("git config --worktree {DRIVER_KEY} {line}"),
        _ => format!("set {DRIVER_KEY} to {line} where it is set (`git -c` or GIT_CONFIG_*)"),
    }
}

fn driver_program(line: &str) -> Check {
    let reinstall = "reinstall kustomerge (./install.sh, or cargo install --locked --path .)";
    // git expands `%%` to `%` before `sh` sees the line.
    let Some(word) = shell_words(&line.replace("%%", "%")).into_iter().next() else {
        return Check::fail(format!("{DRIVER_KEY} is empty"), reinstall);
    };
    let path = if word.contains('/') {
        PathBuf::from(&word)
    } else if let Some(found) = find_on_path(&word) {
        found
    } else {
        return Check::fail(
            format!(
                "the driver's program `{word}` is not on PATH: git would record every merge of \
                 these files as a conflict, without markers"
            ),
            "put its directory on PATH, or run `kustomerge install --absolute-path`",
        );
    };
    match Command::new(&path).arg("--version").output() {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if version.starts_with("kustomerge ") {
                Check::ok(format!(
                    "driver program {} runs ({version})",
                    path.display()
                ))
            } else {
                Check::warn(
                    format!(
                        "driver program {} runs, but `--version` says `{version}`, not kustomerge",
                        path.display()
                    ),
                    format!("point {DRIVER_KEY} at kustomerge: kustomerge install"),
                )
            }
        }
        Ok(out) => Check::fail(
            format!(
                "driver program {} --version failed ({}): {}",
                path.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            reinstall,
        ),
        Err(e) => Check::fail(
            format!("driver program {} does not run: {e}", path.display()),
            reinstall,
        ),
    }
}

fn identity(git: &Git) -> Check {
    match git.run(["var", "GIT_COMMITTER_IDENT"]) {
        // `Name <email> 1767225600 +0000`: the date is noise here.
        Ok(ident) => Check::ok(format!(
            "committer identity: {}",
            ident.rsplitn(3, ' ').nth(2).unwrap_or(&ident)
        )),
        Err(_) => Check::fail(
            "no committer identity: commits fail, and so does every rebase step, leaving the \
             rebase in progress",
            "git config --global user.name 'CI' && git config --global user.email ci@example.com \
             (or export GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL for the whole job)",
        ),
    }
}

fn attributes(git: &Git) -> anyhow::Result<Vec<Check>> {
    let listing = git.run(["ls-files", "-z"])?;
    let files: Vec<&str> = listing
        .split('\0')
        .filter(|path| kustomization::is_file_name(path))
        .collect();
    if files.is_empty() {
        return Ok(vec![Check::ok(
            "no kustomization files tracked here, so nothing for the driver to merge",
        )]);
    }
    let mut unselected = Vec::new();
    for batch in files.chunks(CHECK_ATTR_BATCH) {
        let mut args = vec!["check-attr", "-z", "merge", "--"];
        args.extend_from_slice(batch);
        // `-z` output: path NUL attribute NUL value NUL, per file.
        let out = git.run(args)?;
        let fields: Vec<&str> = out.split('\0').collect();
        for record in fields.chunks_exact(3) {
            if record[2] != DRIVER {
                unselected.push(format!("{} (merge: {})", record[0], record[2]));
            }
        }
    }
    let mut checks = vec![if unselected.is_empty() {
        Check::ok(format!(
            "all {} kustomization file(s) select the driver (git check-attr merge = {DRIVER})",
            files.len()
        ))
    } else {
        let shown = unselected.len().min(5);
        let more = if unselected.len() > shown {
            ", …"
        } else {
            ""
        };
        Check::fail(
            format!(
                "{} of {} kustomization file(s) don't select the driver: {}{more}",
                unselected.len(),
                files.len(),
                unselected[..shown].join(", ")
            ),
            format!(
                "kustomerge install --local, or add `kustomization.yaml merge={DRIVER}` \
                 (and .yml, Kustomization) to .gitattributes; a later `-merge` or \
                 `merge=...` line overrides it"
            ),
        )
    }];
    // At rebase time git reads the attributes in the work tree, but a fresh
    // clone (CI) only has the committed ones.
    let pending = git.run(["status", "--porcelain", "--", ":(glob)**/.gitattributes"])?;
    if !pending.is_empty() {
        checks.push(Check::warn(
            ".gitattributes has uncommitted changes; fresh clones (CI) only see the committed version",
            "commit .gitattributes",
        ));
    }
    Ok(checks)
}

fn hook(git: &Git) -> anyhow::Result<Check> {
    let (hook, _) = hook_paths(git)?;
    let ours = fs::read(&hook).is_ok_and(|content| is_our_hook(&content));
    Ok(if ours && is_executable(&hook) {
        Check::ok(format!(
            "pre-push hook {} runs kustomerge check",
            hook.display()
        ))
    } else {
        Check::warn(
            "no pre-push hook runs kustomerge check (optional: it stops conflict markers and \
             broken kustomization files before they are pushed)",
            "kustomerge install --local --pre-push-hook",
        )
    })
}

fn shallow(git: &Git) -> anyhow::Result<Check> {
    Ok(
        if git.run(["rev-parse", "--is-shallow-repository"])? == "true" {
            Check::warn(
                "shallow clone: `git fetch --depth=N` then rebase, or `git pull --rebase --depth=N`, \
                 loses the merge base, and then every image edit conflicts",
                "update with plain `git pull --rebase` (never pass --depth again), or \
                 `git fetch --unshallow`",
            )
        } else {
            Check::ok("full clone (not shallow)")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_git_versions_of_every_vendor() {
        assert_eq!(parse_git_version("git version 2.47.3"), Some((2, 47)));
        assert_eq!(
            parse_git_version("git version 2.39.5 (Apple Git-154)"),
            Some((2, 39))
        );
        assert_eq!(
            parse_git_version("git version 2.45.1.windows.1"),
            Some((2, 45))
        );
        assert_eq!(parse_git_version("hub version 2.14"), None);
    }
}
