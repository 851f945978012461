//! The driver line: the command git runs for every merged kustomization file,
//! in one place for `install` (which writes it), `doctor` (which reads it)
//! and `push` (which passes it with `-c`).
//!
//! git expands the placeholders in the line, then runs it with `sh -c`
//! (gitattributes(5), "Defining a custom merge driver"). That dictates its
//! shape:
//!
//! - git expands `%` anywhere in the line, so a `%` in the program's path is
//!   written `%%`; and `sh` splits words, so the path is shell-quoted.
//! - `%P` is the repository path, and nothing stops it from starting with
//!   `-` (an overlay under `-prod/`). Parsed as an option it made the driver
//!   exit 129 and git abort the whole merge, so `--` ends the options before
//!   the positionals.
//! - git's own conflict labels (`%S %X %Y`, git 2.44 and later) replace
//!   `base`/`ours`/`theirs`, which during a rebase name the opposite sides
//!   from what people expect. They are glued to their option with `=`: git
//!   shell-quotes each expansion, so `--current-label=%X` reaches the driver
//!   as one word even when the label starts with `-`. Git 2.39 passes the
//!   text `%X` itself, which the driver treats as no label.

use std::fmt;

use crate::version::SameImagePolicy;

/// The driver's name: `merge.kustomize.*` in config, `merge=kustomize` in attributes.
pub const NAME: &str = "kustomize";
/// The config section the driver's keys live in.
pub const SECTION: &str = "merge.kustomize";
/// The config key git runs.
pub const KEY: &str = "merge.kustomize.driver";
/// The driver's description in config (`git config merge.kustomize.name`).
pub const NAME_KEY: &str = "merge.kustomize.name";
/// Keys that are fatal in git without [`KEY`]: git then refuses to merge
/// rather than falling back.
pub const COMPANION_KEYS: [&str; 2] = [NAME_KEY, "merge.kustomize.recursive"];

/// The options and positionals after `merge`, in the current format.
const ARGS: &str = "--base-label=%S --current-label=%X --other-label=%Y -- %O %A %B %L %P";

/// A `kustomerge merge` driver line: which program it runs, with which policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverLine {
    /// The program as `sh` should see it (a name on PATH or a path), unquoted.
    pub program: String,
    /// The `--same-image` policy the line passes.
    pub policy: SameImagePolicy,
}

/// A registered line read back, and what it lacks of the current format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// The program and policy it runs.
    pub line: DriverLine,
    /// The features of the current format it lacks, in words; empty when current.
    pub missing: Vec<&'static str>,
}

impl fmt::Display for DriverLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let policy = match self.policy {
            SameImagePolicy::Conflict => "",
            SameImagePolicy::Newest => "--same-image newest ",
        };
        let program = shell_quote(&self.program).replace('%', "%%");
        write!(f, "{program} merge {policy}{ARGS}")
    }
}

impl Registered {
    /// Reads a configured driver line, if it runs `<program> merge`.
    pub fn read(line: &str) -> Option<Self> {
        let words = shell_words(line);
        let [program, subcommand, args @ ..] = words.as_slice() else {
            return None;
        };
        if subcommand != "merge" {
            return None;
        }
        let newest = args
            .windows(2)
            .any(|w| w[0] == "--same-image" && w[1] == "newest")
            || args.iter().any(|a| a == "--same-image=newest");
        let mut missing = Vec::new();
        if !args.iter().any(|a| a == "--") {
            missing.push("`--` before the paths (a path starting with `-` reads as an option)");
        }
        if !["%S", "%X", "%Y"]
            .iter()
            .all(|p| args.iter().any(|a| a.contains(p)))
        {
            missing.push("git's conflict labels %S %X %Y (conflicts show ours/theirs)");
        }
        Some(Self {
            line: DriverLine {
                // git turns `%%` into `%` before `sh` sees the line.
                program: program.replace("%%", "%"),
                policy: if newest {
                    SameImagePolicy::Newest
                } else {
                    SameImagePolicy::Conflict
                },
            },
            missing,
        })
    }
}

/// Quotes `word` for `sh` when it needs it.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The words `sh` splits a simple command into: the quoting [`shell_quote`]
/// produces, plain double quotes and backslashes. No expansions.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' | '"' => word
                .get_or_insert_default()
                .extend(chars.by_ref().take_while(|&q| q != c)),
            '\\' => word.get_or_insert_default().extend(chars.next()),
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(program: &str, policy: SameImagePolicy) -> String {
        DriverLine {
            program: program.into(),
            policy,
        }
        .to_string()
    }

    #[test]
    fn the_line_ends_options_before_git_placeholders() {
        assert_eq!(
            line("kustomerge", SameImagePolicy::Conflict),
            "kustomerge merge --base-label=%S --current-label=%X --other-label=%Y \
             -- %O %A %B %L %P"
        );
        assert_eq!(
            line("/opt/100% it's/kustomerge", SameImagePolicy::Newest),
            format!(r"'/opt/100%% it'\''s/kustomerge' merge --same-image newest {ARGS}")
        );
    }

    #[test]
    fn written_lines_read_back_as_current() {
        for program in [
            "kustomerge",
            "/home/a b/.cargo/bin/kustomerge",
            "/tmp/it's/100%/kustomerge",
        ] {
            for policy in [SameImagePolicy::Conflict, SameImagePolicy::Newest] {
                let written = DriverLine {
                    program: program.into(),
                    policy,
                };
                let read = Registered::read(&written.to_string()).unwrap();
                assert_eq!(read.line, written);
                assert!(read.missing.is_empty(), "{written}: {:?}", read.missing);
            }
        }
    }

    #[test]
    fn older_lines_read_back_with_what_they_lack() {
        let old =
            Registered::read("'/a b/kustomerge' merge --same-image newest %O %A %B %L %P").unwrap();
        assert_eq!(old.line.program, "/a b/kustomerge");
        assert_eq!(old.line.policy, SameImagePolicy::Newest);
        assert_eq!(old.missing.len(), 2, "{:?}", old.missing);
        let labelled =
            Registered::read("kustomerge merge -s %S -x %X -y %Y %O %A %B %L %P").unwrap();
        assert_eq!(labelled.missing.len(), 1);
        assert!(labelled.missing[0].contains("`--`"));
        assert_eq!(Registered::read("other-tool %O %A %B"), None);
        assert_eq!(Registered::read(""), None);
    }

    #[test]
    fn shell_words_undo_the_quoting() {
        assert_eq!(
            shell_words(r#"  'a b'c "d e" f\ g '' "#),
            ["a bc", "d e", "f g", ""]
        );
        assert!(shell_words(" \t").is_empty());
    }
}
