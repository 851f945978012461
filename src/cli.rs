//! The command line, as clap derive types, and their conversion into the
//! plain values the domain modules take (which never see clap). Each
//! subcommand's behaviour lives in `commands/<name>.rs`; nothing here does
//! work.
#![deny(missing_docs)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::demo::Layout;
use crate::setup::{InstallOptions, Scope};
use crate::version::SameImagePolicy;

/// Concurrent image-tag edits to kustomization.yaml, merged by key.
#[derive(Debug, Parser)]
#[command(name = "kustomerge", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the process's arguments. The driver line takes a shortcut: git
    /// runs `merge` once per merged file, and building the parser for every
    /// subcommand cost more than merging a small file. Anything the shortcut
    /// doesn't accept (help, errors) goes through the full parser, so the
    /// messages are the same either way.
    pub fn parse_args() -> Result<Self, clap::Error> {
        Self::parse_from_args(std::env::args_os().collect())
    }

    fn parse_from_args(args: Vec<std::ffi::OsString>) -> Result<Self, clap::Error> {
        if args.get(1).is_some_and(|a| a == "merge")
            && let Ok(merge) = MergeLine::try_parse_from(&args[1..])
        {
            return Ok(Self {
                command: Command::Merge(merge.args),
            });
        }
        Self::try_parse_from(args)
    }
}

/// `merge`'s arguments alone (see [`Cli::parse_args`]).
#[derive(Debug, Parser)]
#[command(disable_help_flag = true)]
struct MergeLine {
    #[command(flatten)]
    args: MergeArgs,
}

/// kustomerge's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Git merge driver: merge BASE, CURRENT and OTHER into CURRENT.
    Merge(MergeArgs),
    /// Set image tags, names or digests with kustomize's grammar, changing only those bytes.
    SetImage(SetImageArgs),
    /// Set replica counts with kustomize's grammar, changing only those bytes.
    SetReplicas(SetReplicasArgs),
    /// Merge again files git left with conflict markers (during a merge, rebase or cherry-pick, or diff3 markers after).
    Resolve(ResolveArgs),
    /// Lint kustomization files (YAML errors, conflict markers, duplicate names, bad fields).
    Check(CheckArgs),
    /// Fetch, reapply or rebase with the driver active, push, and retry under contention.
    Push(PushArgs),
    /// Register the merge driver in git config (and attributes, hooks).
    Install(InstallArgs),
    /// Remove exactly what `install` added.
    Uninstall(InstallScopeArgs),
    /// Check that the driver is registered and active for every kustomization file.
    Doctor(DoctorArgs),
    /// Race parallel pipelines against a local bare repo: plain git vs kustomerge.
    Demo(DemoArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
}

/// How two different versions of the same image are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SameImageArg {
    /// Report a conflict covering only that entry.
    #[default]
    Conflict,
    /// Keep the higher version (semver-aware); incomparable tags still conflict.
    Newest,
}

impl From<SameImageArg> for SameImagePolicy {
    fn from(arg: SameImageArg) -> Self {
        match arg {
            SameImageArg::Conflict => Self::Conflict,
            SameImageArg::Newest => Self::Newest,
        }
    }
}

// The positionals mirror git's `%O %A %B %L %P` placeholders, in that order,
// after a `--` (see `crate::driver` for the registered line). Labels are
// options because `%S %X %Y` exist only from git 2.44 on (2.39 passes them
// literally). Values starting with `-` are taken where clap can tell them
// apart: a label always has one, and a `%P` such as `-prod/kustomization.yaml`
// holds a character no short option has, so a line without `--` from an older
// kustomerge still merges there. Only after `--` is a `%P` of exactly `-x` a path.
/// Arguments of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// What to do when both sides set the same image to different versions.
    #[arg(long, value_enum, default_value_t = SameImageArg::Conflict)]
    pub same_image: SameImageArg,
    /// Conflict label for the base (git's `%S`, 2.44+).
    #[arg(short = 's', long, value_name = "LABEL", allow_hyphen_values = true)]
    pub base_label: Option<String>,
    /// Conflict label for the current side (git's `%X`, 2.44+).
    #[arg(short = 'x', long, value_name = "LABEL", allow_hyphen_values = true)]
    pub current_label: Option<String>,
    /// Conflict label for the other side (git's `%Y`, 2.44+).
    #[arg(short = 'y', long, value_name = "LABEL", allow_hyphen_values = true)]
    pub other_label: Option<String>,
    /// The merge base (`%O`); empty for an add/add merge.
    pub base: PathBuf,
    /// The current side (`%A`); the result is written here.
    pub current: PathBuf,
    /// The other side (`%B`).
    pub other: PathBuf,
    /// Conflict marker size (`%L`); 0 means 7, and at most 1024 is used.
    #[arg(default_value_t = 7)]
    pub marker_size: usize,
    /// The path the result is stored at (`%P`), used in messages.
    #[arg(allow_hyphen_values = true)]
    pub path: Option<String>,
}

/// Arguments of `resolve`.
#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// What to do when both sides set the same image to different versions.
    #[arg(long, value_enum, default_value_t = SameImageArg::Conflict)]
    pub same_image: SameImageArg,
    /// Stage each file that resolves clean (`git add`).
    #[arg(long)]
    pub add: bool,
    /// Print each merged result on stdout instead of writing the file (conflicts included).
    #[arg(long, conflicts_with = "add")]
    pub stdout: bool,
    /// Files to resolve (default: every unmerged kustomization file in the index); `--` before one starting with `-`.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// What `set-image` and `set-replicas` share: the file, and whether the
/// edit is committed, only shown, or reported as JSON.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The kustomization file, or a directory holding one (default: the current directory).
    #[arg(short = 'f', long = "file", value_name = "FILE|DIR")]
    pub file: Option<PathBuf>,
    /// Commit the change, recording the edit as a trailer that `push` can reapply.
    #[arg(long)]
    pub commit: bool,
    /// The commit message (with --commit).
    #[arg(short = 'm', long, value_name = "MSG", requires = "commit")]
    pub message: Option<String>,
    /// Print the unified diff the edit would make on stdout, and change nothing.
    #[arg(long, conflicts_with = "commit")]
    pub dry_run: bool,
    /// Print one JSON object describing the outcome on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `set-image`.
#[derive(Debug, Args)]
pub struct SetImageArgs {
    /// Skip an image whose file already holds a newer version (exit 0, prints `skipped: ...`).
    #[arg(long)]
    pub no_downgrade: bool,
    /// Allow an empty tag (`name=image:`), which removes the entry's newTag; refused otherwise.
    #[arg(long)]
    pub allow_empty_tag: bool,
    /// Compare-and-set: refuse (exit 3) unless the current tag equals TAG.
    #[arg(long, value_name = "TAG")]
    pub expect: Option<String>,
    /// Where the edit goes and what becomes of it.
    #[command(flatten)]
    pub edit: EditArgs,
    /// Images in kustomize's grammar: name=newName:tag@digest, name:tag, name@digest, `*` keeps a field.
    #[arg(required = true, value_name = "ARG")]
    pub images: Vec<String>,
}

/// Arguments of `set-replicas`.
#[derive(Debug, Args)]
pub struct SetReplicasArgs {
    /// Where the edit goes and what becomes of it.
    #[command(flatten)]
    pub edit: EditArgs,
    /// Replica counts as NAME=COUNT.
    #[arg(required = true, value_name = "NAME=COUNT")]
    pub replicas: Vec<String>,
}

/// Output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// One `file:line:column: problem (fix)` line per problem.
    #[default]
    Text,
    /// One JSON object with every problem.
    Json,
}

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Run as git's pre-push hook: read `<local ref> <sha> <remote ref> <sha>` lines on stdin.
    #[arg(long, num_args = 2, value_names = ["REMOTE", "URL"])]
    pub pre_push: Option<Vec<String>>,
    /// Rewrite the files to fix what is mechanical and safe (YAML 1.1 scalars
    /// in string fields, field-name case), then report what is left.
    #[arg(long, conflicts_with = "pre_push")]
    pub fix: bool,
    /// Files or directories (default: every kustomization file under the current directory).
    pub paths: Vec<PathBuf>,
}

/// Arguments of `push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The remote to push to.
    #[arg(long, default_value = "origin")]
    pub remote: String,
    /// The branch to push to (default: the current branch).
    #[arg(long)]
    pub branch: Option<String>,
    /// Total time budget in seconds for all attempts.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub budget: u64,
    /// Maximum number of push attempts.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub max_attempts: u32,
    /// Skip a reapplied image edit when the tip already has a newer version.
    #[arg(long)]
    pub no_downgrade: bool,
    /// The driver's policy while rebasing, when a commit and the tip set the same image to different versions.
    #[arg(long, value_enum, default_value_t = SameImageArg::Conflict)]
    pub same_image: SameImageArg,
    /// Print one JSON object describing the outcome on stdout.
    #[arg(long)]
    pub json: bool,
    /// Don't combine: race alone instead of queueing after a lost race and carrying others' queued edits.
    #[arg(long)]
    pub no_combine: bool,
    /// Where queued commits wait, under refs/heads/ (one branch per job).
    #[arg(long, default_value = "kustomerge/queue/", value_name = "PREFIX")]
    pub queue_prefix: String,
}

/// Arguments of `doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Run as if started in DIR.
    #[arg(short = 'C', value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print one JSON object with every check on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Where `install` and `uninstall` write git config.
#[derive(Debug, Args)]
pub struct InstallScopeArgs {
    /// The user's global config (~/.gitconfig); the default.
    #[arg(long, group = "scope")]
    pub global: bool,
    /// This repository's config, plus attributes.
    #[arg(long, group = "scope")]
    pub local: bool,
    /// The system config (may need root).
    #[arg(long, group = "scope")]
    pub system: bool,
}

impl InstallScopeArgs {
    /// The config file chosen; `--global` when none is named.
    pub fn scope(&self) -> Scope {
        if self.local {
            Scope::Local
        } else if self.system {
            Scope::System
        } else {
            Scope::Global
        }
    }
}

impl InstallArgs {
    /// What `install` is asked to set up.
    pub fn options(&self) -> InstallOptions {
        InstallOptions {
            scope: self.scope.scope(),
            absolute_path: self.absolute_path,
            policy: self.policy.into(),
            pre_push_hook: self.pre_push_hook,
            commit_attributes: !self.no_commit_attributes,
        }
    }
}

/// Arguments of `install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Which config to write.
    #[command(flatten)]
    pub scope: InstallScopeArgs,
    /// With --local: also install a pre-push hook that runs `kustomerge check` (chains an existing hook).
    // Hooks belong to one clone, like the undo log that `uninstall --local` reads.
    #[arg(long, requires = "local")]
    pub pre_push_hook: bool,
    /// With --local: write `.git/info/attributes` instead of `.gitattributes`.
    #[arg(long, requires = "local")]
    pub no_commit_attributes: bool,
    /// The same-image policy the registered driver uses.
    #[arg(long, value_enum, default_value_t = SameImageArg::Conflict)]
    pub policy: SameImageArg,
    /// Register the binary by its absolute path instead of relying on PATH.
    #[arg(long)]
    pub absolute_path: bool,
}

/// Layout of the demo overlay's image list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LayoutArg {
    /// Multi-line `- name:` entries.
    #[default]
    Block,
    /// `images: [{...}, {...}]` on one line.
    Flow,
}

impl From<LayoutArg> for Layout {
    fn from(arg: LayoutArg) -> Self {
        match arg {
            LayoutArg::Block => Self::Block,
            LayoutArg::Flow => Self::Flow,
        }
    }
}

/// Arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of parallel pipelines.
    #[arg(long, default_value_t = 20)]
    pub jobs: usize,
    /// Layout of the overlay's image list.
    #[arg(long, value_enum, default_value_t = LayoutArg::Block)]
    pub layout: LayoutArg,
    /// Also run the jobs one at a time (the serialised baseline).
    #[arg(long)]
    pub serial: bool,
    /// Milliseconds added to every call to the remote (fetch, push, ls-remote), as a hosted remote's round trip; 0 for raw local disk.
    #[arg(long, default_value_t = 150, value_name = "MS")]
    pub latency: u64,
}

/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::{Cli, Command};

    fn parse(line: &str) -> Result<Cli, clap::Error> {
        Cli::parse_from_args(line.split(' ').map(Into::into).collect())
    }

    /// The driver line's shortcut reads every form as the full parser does.
    #[test]
    fn the_merge_shortcut_agrees_with_the_full_parser() {
        for line in [
            "kustomerge merge o a b",
            "kustomerge merge o a b 9 dir/kustomization.yaml",
            "kustomerge merge --same-image newest -s base -x ours -y theirs o a b 7 k",
            "kustomerge merge -- -o a b",
            "kustomerge merge --base-label=-s --current-label= --other-label=%Y -- o a b 7 -x",
            "kustomerge merge -x -ours -y --theirs o a b 7 --prod/kustomization.yaml",
            "kustomerge merge o a b 9 -prod/kustomization.yaml",
        ] {
            let Command::Merge(fast) = parse(line).unwrap().command else {
                panic!("{line}: not a merge");
            };
            let full = <Cli as clap::Parser>::try_parse_from(line.split(' ')).unwrap();
            assert_eq!(
                format!("{:?}", Command::Merge(fast)),
                format!("{:?}", full.command),
                "{line}"
            );
        }
    }

    /// No path or label starting with `-` is read as an option: after `--`,
    /// and in the lines older versions registered (no `--`, `-x %X`).
    #[test]
    fn hyphenated_paths_and_labels_are_values() {
        for (line, labels, path) in [
            (
                "kustomerge merge --base-label=-s --current-label=-x --other-label=--y -- o a b 7 -x",
                ["-s", "-x", "--y"],
                "-x",
            ),
            (
                "kustomerge merge -s -s -x -x -y -y o a b 7 -prod/kustomization.yaml",
                ["-s", "-x", "-y"],
                "-prod/kustomization.yaml",
            ),
        ] {
            let Command::Merge(args) = parse(line).unwrap().command else {
                panic!("{line}: not a merge");
            };
            let got = [args.base_label, args.current_label, args.other_label];
            assert_eq!(got, labels.map(|l| Some(l.to_owned())), "{line}");
            assert_eq!(args.path.as_deref(), Some(path), "{line}");
        }
    }

    /// Help and errors come from the full parser.
    #[test]
    fn the_merge_shortcut_leaves_help_and_errors_to_the_full_parser() {
        use clap::error::ErrorKind;
        assert_eq!(
            parse("kustomerge merge --help").unwrap_err().kind(),
            ErrorKind::DisplayHelp
        );
        let err = parse("kustomerge merge o").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
        assert!(err.to_string().contains("kustomerge merge"), "{err}");
    }
}
