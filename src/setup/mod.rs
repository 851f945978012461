//! What `install` sets up, `uninstall` takes away and `doctor` checks: the
//! config keys, the attribute lines that select the driver, the pre-push
//! hook and the undo log (the driver line itself is [`crate::driver`]).
//! `commands/install.rs` and `commands/doctor.rs` only say what happened.
//!
//! A driver that isn't registered does nothing, and nothing says so: with the
//! attribute set but no `merge.kustomize.driver`, git silently falls back to
//! its line merge (gitattributes(5), "Defining a custom merge driver"). So `install` writes the
//! two config keys git needs, with `--local` the attribute lines that select
//! the driver, and with `--pre-push-hook` a hook that runs `check`.
//!
//! # Why the undo log lives in git config
//!
//! `uninstall` must reverse exactly what `install` changed and nothing else.
//! So every change `install` makes is first recorded as one
//! `kustomerge.install.undo` value: a key it set, the value a key had before,
//! an attribute line it appended, a file it created, a hook it wrote. A run
//! that changes nothing records nothing, which is what makes install
//! idempotent and uninstall exact after any number of installs.
//!
//! The log is kept in the very config file `install` edited (`--global`,
//! `--local` or `--system`) rather than in a state file of our own, because
//! that is the one place that can't drift from what it describes: git picks
//! the file (`GIT_CONFIG_GLOBAL`, XDG paths, the system path), deleting a
//! clone deletes its log, and `git config --list` shows it. Entries are
//! written before the change they undo, so an interrupted install can still
//! be uninstalled. `uninstall` replays the log backwards and then removes it,
//! which leaves the config file byte-identical to before, except for two
//! things git itself does: it ends a last line that lacked its newline when
//! it writes to the file, and it drops a section header together with the
//! section's last key, even a header that was there, empty, before install.

pub mod doctor;

use std::fmt;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::driver::{self, DriverLine, KEY as DRIVER_KEY, NAME as DRIVER, NAME_KEY, Registered};
use crate::git::Git;
use crate::kustomization::FILE_NAMES;
use crate::version::SameImagePolicy;

const NAME: &str = "kustomization.yaml images merge (kustomerge)";
const LOG_KEY: &str = "kustomerge.install.undo";

const HOOK: &str = "pre-push";
const CHAINED_HOOK: &str = "pre-push.kustomerge-chained";
/// The line that marks a hook as ours: only such a hook is ever replaced or deleted.
const HOOK_MARKER: &str = "# kustomerge pre-push hook";

/// Which `git config` file `install` and `uninstall` work on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The user's (`--global`).
    Global,
    /// This repository's (`--local`), with its attribute lines.
    Local,
    /// The machine's (`--system`).
    System,
}

impl Scope {
    /// The `git config` option that selects the file.
    pub fn flag(self) -> &'static str {
        match self {
            Self::Global => "--global",
            Self::Local => "--local",
            Self::System => "--system",
        }
    }

    /// `global`, `local` or `system`.
    pub fn name(self) -> &'static str {
        &self.flag()[2..]
    }
}

/// `git config` restricted to one scope's file, or (`scope: None`) reading
/// the merged view git itself uses, as `doctor` does.
struct Config {
    git: Git,
    scope: Option<Scope>,
}

impl Config {
    fn open(scope: Scope) -> anyhow::Result<Self> {
        let git = Git::new();
        if scope == Scope::Local && !git.succeeds(["rev-parse", "--git-dir"]) {
            bail!("not inside a git repository: run this inside the repository, or use --global");
        }
        // git then reads no system config, yet still writes it: install would
        // register a driver nobody sees, and uninstall would find no log.
        let nosystem = std::env::var("GIT_CONFIG_NOSYSTEM")
            .is_ok_and(|v| !["", "0", "false", "no", "off"].contains(&v.to_lowercase().as_str()));
        if scope == Scope::System && nosystem {
            bail!(
                "GIT_CONFIG_NOSYSTEM is set, so git ignores the system config; unset it, or use --global"
            );
        }
        Ok(Self {
            git,
            scope: Some(scope),
        })
    }

    /// Every scope merged, as git sees it when it runs the driver here.
    pub fn effective(git: Git) -> Self {
        Self { git, scope: None }
    }

    fn args<'a>(&self, rest: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["config"];
        args.extend(self.scope.map(Scope::flag));
        args.extend_from_slice(rest);
        args
    }

    fn describe(&self) -> &'static str {
        self.scope.map_or("effective", Scope::name)
    }

    /// Runs `git config`, mapping the exit status that means "no such key"
    /// (`absent`) to `None`.
    fn query(&self, rest: &[&str], absent: i32) -> anyhow::Result<Option<String>> {
        let args = self.args(rest);
        let out = self.git.output(&args)?;
        match out.status.code() {
            Some(0) => Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned())),
            Some(code) if code == absent => Ok(None),
            _ => bail!(
                "git {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        }
    }

    /// A key's value, if set.
    pub fn get(&self, key: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .query(&["--get", key], 1)?
            .map(|v| v.strip_suffix('\n').unwrap_or(&v).to_owned()))
    }

    /// The scope (`local`, `global`, `command`, ...) a key's effective value comes from.
    pub fn scope_of(&self, key: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .query(&["--show-scope", "--get", key], 1)?
            .and_then(|v| v.split_once('\t').map(|(scope, _)| scope.to_owned())))
    }

    /// Every value of a multi-valued key. `-z` keeps values with newlines whole.
    fn get_all(&self, key: &str) -> anyhow::Result<Vec<String>> {
        Ok(self
            .query(&["-z", "--get-all", key], 1)?
            .map(|all| all.split_terminator('\0').map(str::to_owned).collect())
            .unwrap_or_default())
    }

    fn write(&self, rest: &[&str]) -> anyhow::Result<()> {
        self.git.run(self.args(rest)).map(drop).with_context(|| {
            let hint = if self.scope == Some(Scope::System) {
                " (the system config usually needs root)"
            } else {
                ""
            };
            format!("could not write the {} git config{hint}", self.describe())
        })
    }

    // `--` keeps a value that starts with `-` (a restored old value) from
    // being read as an option.
    fn set(&self, key: &str, value: &str) -> anyhow::Result<()> {
        self.write(&["--", key, value])
    }

    fn add(&self, key: &str, value: &str) -> anyhow::Result<()> {
        self.write(&["--add", "--", key, value])
    }

    /// Unsets a key; a key that is already gone is fine (git exits 5). git
    /// (2.39 and 2.47 alike) drops the section header along with its last
    /// key, so no `--remove-section` is needed, and none could delete a
    /// user's comment in the section.
    fn unset(&self, key: &str) -> anyhow::Result<()> {
        self.query(&["--unset-all", key], 5).map(drop)
    }

    /// Whether the file exists: `git config --list` fails on a missing file.
    fn exists(&self) -> bool {
        self.git.succeeds(self.args(&["--list"]))
    }

    /// The file this scope writes, found through a key it holds.
    fn file(&self, key: &str) -> anyhow::Result<PathBuf> {
        if self.scope == Some(Scope::Local) {
            // `--show-origin` names the local file relative to the top of the
            // work tree, not to the current directory.
            return Ok(PathBuf::from(self.git.run([
                "rev-parse",
                "--git-path",
                "config",
            ])?));
        }
        let listing = self
            .query(&["--show-origin", "-z", "--get-all", key], 1)?
            .with_context(|| format!("{key} vanished from the {} git config", self.describe()))?;
        let origin = listing.split('\0').next().unwrap_or_default();
        let path = origin
            .strip_prefix("file:")
            .with_context(|| format!("unexpected config origin `{origin}` for {key}"))?;
        Ok(PathBuf::from(path))
    }

    fn undo_log(&self) -> anyhow::Result<Vec<Undo>> {
        self.get_all(LOG_KEY)?
            .iter()
            .map(|entry| entry.parse())
            .collect()
    }
}

/// An attributes file `install --local` may append to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrFile {
    /// `.gitattributes` at the top of the work tree, meant to be committed.
    Committed,
    /// `$GIT_DIR/info/attributes`: this clone only, never committed.
    Info,
}

impl AttrFile {
    fn token(self) -> &'static str {
        match self {
            Self::Committed => "gitattributes",
            Self::Info => "info-attributes",
        }
    }

    fn from_token(token: &str) -> Option<Self> {
        [Self::Committed, Self::Info]
            .into_iter()
            .find(|f| f.token() == token)
    }

    /// Where the file is in the repository `git` runs in.
    pub fn path(self, git: &Git) -> anyhow::Result<PathBuf> {
        Ok(match self {
            Self::Committed => {
                Path::new(&git.run(["rev-parse", "--show-toplevel"])?).join(".gitattributes")
            }
            Self::Info => PathBuf::from(git.run(["rev-parse", "--git-path", "info/attributes"])?),
        })
    }
}

/// One entry of the undo log: how to reverse one change `install` made.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Undo {
    /// A key that had no value: unset it.
    Unset(String),
    /// A key whose value was replaced: put the old value back.
    Restore { key: String, value: String },
    /// The config file did not exist: delete it once it is empty again.
    ConfigFile,
    /// A line appended to an attributes file: remove it.
    AttrLine(AttrFile, String),
    /// The file's last line had no newline, so one was added before ours.
    AttrNewline(AttrFile),
    /// The attributes file did not exist: delete it once it is empty again.
    AttrFileCreated(AttrFile),
    /// The pre-push hook was written; a foreign one may have been chained.
    Hook,
}

impl fmt::Display for Undo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unset(key) => write!(f, "unset {key}"),
            Self::Restore { key, value } => write!(f, "restore {key} {value}"),
            Self::ConfigFile => f.write_str("created-config"),
            Self::AttrLine(file, line) => write!(f, "attribute {} {line}", file.token()),
            Self::AttrNewline(file) => write!(f, "attribute-newline {}", file.token()),
            Self::AttrFileCreated(file) => write!(f, "created-attributes {}", file.token()),
            Self::Hook => f.write_str("hook"),
        }
    }
}

impl std::str::FromStr for Undo {
    type Err = anyhow::Error;

    fn from_str(entry: &str) -> anyhow::Result<Self> {
        let (verb, rest) = entry.split_once(' ').unwrap_or((entry, ""));
        let file = |token: &str| AttrFile::from_token(token);
        let parsed = match verb {
            "unset" if !rest.is_empty() => Some(Self::Unset(rest.to_owned())),
            "restore" => rest.split_once(' ').map(|(key, value)| Self::Restore {
                key: key.to_owned(),
                value: value.to_owned(),
            }),
            "created-config" => Some(Self::ConfigFile),
            "attribute" => rest
                .split_once(' ')
                .and_then(|(f, line)| Some(Self::AttrLine(file(f)?, line.to_owned()))),
            "attribute-newline" => file(rest).map(Self::AttrNewline),
            "created-attributes" => file(rest).map(Self::AttrFileCreated),
            "hook" => Some(Self::Hook),
            _ => None,
        };
        parsed.with_context(|| {
            format!("unknown {LOG_KEY} entry `{entry}` (written by a newer kustomerge?)")
        })
    }
}

impl Undo {
    /// The config key this entry restores, if any.
    fn config_key(&self) -> Option<&str> {
        match self {
            Self::Unset(key) | Self::Restore { key, .. } => Some(key),
            _ => None,
        }
    }

    /// Reverses the change, describing what was done in `done`.
    /// [`Undo::ConfigFile`] is left to the caller: it can only run once the
    /// log itself is gone from the file.
    fn apply(&self, config: &Config, done: &mut Vec<String>) -> anyhow::Result<()> {
        let git = &config.git;
        match self {
            Self::Unset(key) => {
                config.unset(key)?;
                done.push(format!("unset {key}"));
            }
            Self::Restore { key, value } => {
                config.set(key, value)?;
                done.push(format!("restored {key} = {value}"));
            }
            Self::ConfigFile => {}
            Self::AttrLine(file, line) => {
                let path = file.path(git)?;
                let removed = edit_file(&path, |bytes| remove_last_line(bytes, line))?;
                done.push(if removed {
                    format!("removed `{line}` from {}", path.display())
                } else {
                    format!(
                        "`{line}` was no longer in {}; nothing to remove",
                        path.display()
                    )
                });
            }
            Self::AttrNewline(file) => {
                edit_file(&file.path(git)?, |bytes| {
                    let eol = if bytes.ends_with(b"\r\n") { 2 } else { 1 };
                    let ends = bytes.ends_with(b"\n");
                    if ends {
                        bytes.truncate(bytes.len() - eol);
                    }
                    ends
                })?;
            }
            Self::AttrFileCreated(file) => {
                let path = file.path(git)?;
                // Once committed, the file is the repository's: deleting it
                // would be a change to commit that nobody asked for.
                if *file == AttrFile::Committed && is_tracked(git, &path) {
                    done.push(format!(
                        "left {} in place, empty: install had created it, but it has been committed since (remove it with `git rm {}` if you want it gone)",
                        path.display(),
                        path.display()
                    ));
                } else if fs::metadata(&path).is_ok_and(|m| m.len() == 0) {
                    fs::remove_file(&path)
                        .with_context(|| format!("could not delete {}", path.display()))?;
                    done.push(format!(
                        "deleted {}, which install had created",
                        path.display()
                    ));
                }
            }
            Self::Hook => uninstall_hook(git, done)?,
        }
        Ok(())
    }
}

/// `install`'s state: the config it writes, the undo log so far, and what it did.
struct Installer {
    config: Config,
    log: Vec<Undo>,
    done: Vec<String>,
}

impl Installer {
    /// Appends to the undo log before the change is made (see the module docs).
    fn record(&mut self, undo: Undo) -> anyhow::Result<()> {
        self.config.add(LOG_KEY, &undo.to_string())?;
        self.log.push(undo);
        Ok(())
    }

    fn set(&mut self, key: &str, value: &str) -> anyhow::Result<()> {
        let old = self.config.get(key)?;
        if old.as_deref() == Some(value) {
            return Ok(());
        }
        // The first change to a key is logged: uninstall restores what was
        // there before kustomerge, not an earlier kustomerge value (say,
        // another --policy). But a value someone else set since is what
        // this install replaces, so it supersedes the older entry:
        // uninstall then puts the user's own line back.
        let foreign = old.as_deref().is_some_and(|v| !is_ours(key, v));
        if foreign {
            self.supersede(key)?;
        }
        if !self.log.iter().any(|u| u.config_key() == Some(key)) {
            self.record(match &old {
                None => Undo::Unset(key.to_owned()),
                Some(value) => Undo::Restore {
                    key: key.to_owned(),
                    value: value.clone(),
                },
            })?;
        }
        self.config.set(key, value)?;
        self.done.push(match old {
            None => format!("set {key} = {value}"),
            Some(old) => format!("set {key} = {value} (was {old})"),
        });
        Ok(())
    }

    /// Drops the log's entries for `key`, keeping the rest in order.
    fn supersede(&mut self, key: &str) -> anyhow::Result<()> {
        if !self.log.iter().any(|u| u.config_key() == Some(key)) {
            return Ok(());
        }
        self.log.retain(|u| u.config_key() != Some(key));
        self.config.unset(LOG_KEY)?;
        for undo in &self.log {
            self.config.add(LOG_KEY, &undo.to_string())?;
        }
        Ok(())
    }

    fn attributes(&mut self, file: AttrFile) -> anyhow::Result<()> {
        let path = file.path(&self.config.git)?;
        let existing = read_optional(&path)?;
        let mut bytes = existing.clone().unwrap_or_default();
        let missing: Vec<String> = attribute_lines()
            .filter(|line| !has_line(&bytes, line))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        // Appended lines follow the file's own line endings.
        let eol: &[u8] = if bytes.windows(2).any(|w| w == b"\r\n") {
            b"\r\n"
        } else {
            b"\n"
        };
        match &existing {
            None => self.record(Undo::AttrFileCreated(file))?,
            Some(old) if !old.is_empty() && !old.ends_with(b"\n") => {
                self.record(Undo::AttrNewline(file))?;
                bytes.extend_from_slice(eol);
            }
            Some(_) => {}
        }
        for line in &missing {
            self.record(Undo::AttrLine(file, line.clone()))?;
            bytes.extend_from_slice(line.as_bytes());
            bytes.extend_from_slice(eol);
        }
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
        }
        fs::write(&path, &bytes).with_context(|| format!("could not write {}", path.display()))?;
        let verb = if existing.is_some() {
            "added to"
        } else {
            "created"
        };
        self.done
            .push(format!("{verb} {}: {}", path.display(), missing.join(", ")));
        Ok(())
    }

    fn hook(&mut self, program: &str) -> anyhow::Result<()> {
        let (hook, chained) = hook_paths(&self.config.git)?;
        let wanted = hook_script(program);
        let current = read_optional(&hook)?;
        if current.as_deref() == Some(wanted.as_bytes()) {
            return Ok(());
        }
        // Ours, but for another program path: rewritten in place below.
        let foreign = current.is_some_and(|c| !is_our_hook(&c));
        if foreign && fs::symlink_metadata(&chained).is_ok() {
            bail!(
                "{} is not kustomerge's, and {} (where install keeps a replaced hook) already exists; \
                 move one of them away, then run install again",
                hook.display(),
                chained.display()
            );
        }
        if !self.log.contains(&Undo::Hook) {
            self.record(Undo::Hook)?;
        }
        if foreign {
            fs::rename(&hook, &chained).with_context(|| {
                format!("could not move {} to {}", hook.display(), chained.display())
            })?;
            self.done.push(format!(
                "moved the existing pre-push hook to {}; the new hook runs it first",
                chained.display()
            ));
        }
        if let Some(dir) = hook.parent() {
            fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
        }
        fs::write(&hook, &wanted).with_context(|| format!("could not write {}", hook.display()))?;
        make_executable(&hook)?;
        self.done.push(format!(
            "installed the pre-push hook {} (runs `kustomerge check`)",
            hook.display()
        ));
        Ok(())
    }
}

/// What `install` is asked to set up.
#[derive(Debug, Clone, Copy)]
pub struct InstallOptions {
    /// The config file written.
    pub scope: Scope,
    /// Register this binary by its absolute path rather than `kustomerge`.
    pub absolute_path: bool,
    /// The policy the driver line passes.
    pub policy: SameImagePolicy,
    /// Also install the pre-push hook that runs `check`.
    pub pre_push_hook: bool,
    /// With [`Scope::Local`], the attribute lines go to `.gitattributes`
    /// (to be committed) rather than `info/attributes`.
    pub commit_attributes: bool,
}

/// What `install` did.
#[derive(Debug)]
pub struct Installed {
    /// The config file written.
    pub file: PathBuf,
    /// One line per change; empty when everything was already in place.
    pub done: Vec<String>,
    /// The attributes file that selects the driver, for `--local`.
    pub attributes: Option<AttrFile>,
}

/// Registers the driver, recording every change in the undo log first.
pub fn install(opts: &InstallOptions) -> anyhow::Result<Installed> {
    let config = Config::open(opts.scope)?;
    let created_file = !config.exists();
    let mut install = Installer {
        log: config.undo_log()?,
        config,
        done: Vec::new(),
    };
    let program = program(opts.absolute_path)?;
    if created_file {
        install.record(Undo::ConfigFile)?;
    }
    // First, because it is the step that can refuse (a foreign hook it
    // can't chain), and a refusal should leave everything untouched.
    if opts.pre_push_hook {
        install.hook(&program)?;
    }
    install.set(NAME_KEY, NAME)?;
    let line = DriverLine {
        program,
        policy: opts.policy,
    };
    // A line an older kustomerge wrote for this same program is replaced as
    // any other would be; the note says why it changed.
    let outdated = install
        .config
        .get(DRIVER_KEY)?
        .as_deref()
        .and_then(Registered::read)
        .filter(|old| old.line.program == line.program && !old.missing.is_empty());
    install.set(DRIVER_KEY, &line.to_string())?;
    if let Some(old) = outdated {
        install.done.push(format!(
            "upgraded a driver line in an older kustomerge format, which lacked {}",
            old.missing.join(" and ")
        ));
    }
    let attributes = (opts.scope == Scope::Local).then_some(if opts.commit_attributes {
        AttrFile::Committed
    } else {
        AttrFile::Info
    });
    if let Some(file) = attributes {
        install.attributes(file)?;
    }
    Ok(Installed {
        file: install.config.file(DRIVER_KEY)?,
        done: install.done,
        attributes,
    })
}

/// What `uninstall` did.
#[derive(Debug)]
pub enum Uninstalled {
    /// The scope holds no undo log, so nothing was changed; `driver_set`
    /// says whether a driver line is there all the same.
    NoRecord {
        /// [`DRIVER_KEY`] is set, by someone else.
        driver_set: bool,
    },
    /// The log was replayed backwards and removed.
    Undone {
        /// One line per change reversed.
        done: Vec<String>,
        /// A tracked `.gitattributes` that was edited, to be committed.
        edited_committed: Option<PathBuf>,
    },
}

/// Reverses exactly what `install` recorded in `scope`'s undo log.
pub fn uninstall(scope: Scope) -> anyhow::Result<Uninstalled> {
    let config = Config::open(scope)?;
    let log = config.undo_log()?;
    if log.is_empty() {
        return Ok(Uninstalled::NoRecord {
            driver_set: config.get(DRIVER_KEY)?.is_some(),
        });
    }
    // Found now: once the log is gone, the file may hold no key to find it by.
    let created_file = log
        .contains(&Undo::ConfigFile)
        .then(|| config.file(LOG_KEY))
        .transpose()?;
    let mut done = Vec::new();
    for undo in log.iter().rev() {
        undo.apply(&config, &mut done)?;
    }
    config.unset(LOG_KEY)?;
    if let Some(path) = created_file
        && fs::metadata(&path).is_ok_and(|m| m.len() == 0)
    {
        fs::remove_file(&path).with_context(|| format!("could not delete {}", path.display()))?;
        done.push(format!(
            "deleted {}, which install had created",
            path.display()
        ));
    }
    let edited_committed = log
        .iter()
        .any(|u| matches!(u, Undo::AttrLine(AttrFile::Committed, _)))
        .then(|| AttrFile::Committed.path(&config.git).ok())
        .flatten()
        .filter(|p| is_tracked(&config.git, p));
    Ok(Uninstalled::Undone {
        done,
        edited_committed,
    })
}

fn uninstall_hook(git: &Git, done: &mut Vec<String>) -> anyhow::Result<()> {
    let (hook, chained) = hook_paths(git)?;
    match read_optional(&hook)? {
        Some(content) if is_our_hook(&content) => {
            fs::remove_file(&hook)
                .with_context(|| format!("could not delete {}", hook.display()))?;
            done.push(format!("deleted the pre-push hook {}", hook.display()));
        }
        Some(_) => done.push(format!(
            "left {} in place: it is no longer kustomerge's hook",
            hook.display()
        )),
        None => {}
    }
    if fs::symlink_metadata(&chained).is_ok() && fs::symlink_metadata(&hook).is_err() {
        fs::rename(&chained, &hook).with_context(|| {
            format!(
                "could not move {} back to {}",
                chained.display(),
                hook.display()
            )
        })?;
        done.push(format!(
            "restored the previous pre-push hook {}",
            hook.display()
        ));
    }
    Ok(())
}

/// Whether `value` of `key` is one `install` writes (so replacing it again
/// replaces nothing of the user's).
fn is_ours(key: &str, value: &str) -> bool {
    match key {
        NAME_KEY => value == NAME,
        DRIVER_KEY => Registered::read(value).is_some_and(|r| {
            Path::new(&r.line.program).file_name() == Some(std::ffi::OsStr::new("kustomerge"))
        }),
        _ => false,
    }
}

/// Whether git tracks `path` (in the index of the repository `git` runs in).
fn is_tracked(git: &Git, path: &Path) -> bool {
    git.succeeds([
        std::ffi::OsStr::new("ls-files"),
        std::ffi::OsStr::new("--error-unmatch"),
        std::ffi::OsStr::new("--"),
        path.as_os_str(),
    ])
}

/// The program the driver line and the hook run: `kustomerge` from PATH, or
/// this binary's absolute path (unquoted).
fn program(absolute: bool) -> anyhow::Result<String> {
    if !absolute {
        return Ok("kustomerge".to_owned());
    }
    let exe = std::env::current_exe().context("could not find the path of this kustomerge")?;
    let exe = exe
        .to_str()
        .with_context(|| format!("{} is not valid UTF-8", exe.display()))?;
    Ok(exe.to_owned())
}

/// The lines that select the driver for every kustomization file. A pattern
/// without a slash matches in every directory, so one line per name covers
/// the whole repository.
pub fn attribute_lines() -> impl Iterator<Item = String> {
    FILE_NAMES
        .iter()
        .map(|name| format!("{name} merge={DRIVER}"))
}

/// Whether `bytes` has `line`, ignoring spacing (`a  merge=x` is the same rule).
fn has_line(bytes: &[u8], line: &str) -> bool {
    String::from_utf8_lossy(bytes)
        .lines()
        .any(|l| l.split_whitespace().eq(line.split_whitespace()))
}

/// Removes the last line that is exactly `line`, with its line ending.
fn remove_last_line(bytes: &mut Vec<u8>, line: &str) -> bool {
    let mut start = 0;
    let mut found = None;
    for chunk in bytes.split_inclusive(|&b| b == b'\n') {
        let text = chunk.strip_suffix(b"\n").unwrap_or(chunk);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text == line.as_bytes() {
            found = Some(start..start + chunk.len());
        }
        start += chunk.len();
    }
    found.map(|range| bytes.drain(range)).is_some()
}

fn read_optional(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
    }
}

/// Applies `edit` to a file that may be missing; writes only if `edit` says it changed something.
fn edit_file(path: &Path, edit: impl FnOnce(&mut Vec<u8>) -> bool) -> anyhow::Result<bool> {
    let Some(mut bytes) = read_optional(path)? else {
        return Ok(false);
    };
    let changed = edit(&mut bytes);
    if changed {
        fs::write(path, &bytes).with_context(|| format!("could not write {}", path.display()))?;
    }
    Ok(changed)
}

/// The pre-push hook and the name a replaced hook is kept under. `--git-path`
/// honours `core.hooksPath`, which is where git looks for hooks.
fn hook_paths(git: &Git) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = PathBuf::from(git.run(["rev-parse", "--git-path", "hooks"])?);
    Ok((dir.join(HOOK), dir.join(CHAINED_HOOK)))
}

/// Whether a hook's content is the one `install` writes.
fn is_our_hook(content: &[u8]) -> bool {
    String::from_utf8_lossy(content)
        .lines()
        .any(|l| l == HOOK_MARKER)
}

// git hands every pre-push hook the remote name and URL as arguments and one
// line per ref on stdin. stdin can be read only once, so it is kept in a
// variable (the trailing `x` stops `$(...)` from eating final newlines) and
// fed to the replaced hook and to `check` alike. A replaced hook that isn't
// executable was not running before, so it is not run now either.
fn hook_script(program: &str) -> String {
    format!(
        r#"#!/bin/sh
{HOOK_MARKER}
# Written by `kustomerge install --pre-push-hook`, removed by `kustomerge
# uninstall --local`. Runs the hook it replaced ({CHAINED_HOOK}),
# if any, then `kustomerge check` on what is being pushed.
input=$(cat; echo x)
input=${{input%x}}
chained="$(dirname "$0")/{CHAINED_HOOK}"
if [ -x "$chained" ]; then
    printf '%s' "$input" | "$chained" "$@" || exit $?
fi
printf '%s' "$input" | {program} check --pre-push "$1" "$2"
"#,
        program = driver::shell_quote(program)
    )
}

fn make_executable(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))
            .with_context(|| format!("could not make {} executable", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Whether `path` is a file its owner may run.
fn is_executable(path: &Path) -> bool {
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    let runnable = {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    };
    #[cfg(not(unix))]
    let runnable = true;
    meta.is_file() && runnable
}

/// The first executable called `name` on PATH, as `sh` would find it.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| is_executable(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_entries_round_trip() {
        for undo in [
            Undo::Unset(DRIVER_KEY.into()),
            Undo::Restore {
                key: DRIVER_KEY.into(),
                value: "other tool %A\nwith a newline".into(),
            },
            Undo::ConfigFile,
            Undo::AttrLine(AttrFile::Info, "kustomization.yml merge=kustomize".into()),
            Undo::AttrNewline(AttrFile::Committed),
            Undo::AttrFileCreated(AttrFile::Committed),
            Undo::Hook,
        ] {
            assert_eq!(undo.to_string().parse::<Undo>().unwrap(), undo);
        }
        assert!("frobnicate x".parse::<Undo>().is_err());
    }

    #[test]
    fn the_hook_knows_itself_and_nothing_else() {
        assert!(is_our_hook(hook_script("kustomerge").as_bytes()));
        assert!(!is_our_hook(
            b"#!/bin/sh\n# kustomerge pre-push hook, by hand\n"
        ));
    }

    #[test]
    fn removes_only_the_last_exact_line() {
        let mut bytes = b"a merge=x\r\nb\r\na merge=x\r\nc".to_vec();
        assert!(remove_last_line(&mut bytes, "a merge=x"));
        assert_eq!(bytes, b"a merge=x\r\nb\r\nc");
        assert!(!remove_last_line(&mut bytes, "a  merge=x"));
        assert!(has_line(&bytes, "a  merge=x"));
    }
}
