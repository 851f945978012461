//! `kustomerge check`: a fast lint for kustomization files, for pre-push
//! hooks, pre-commit and CI.
//!
//! It reports what would make kustomize fail (or silently do something other
//! than what the file says) before the file reaches a cluster, each with a
//! position and a fix: leftover conflict markers, YAML errors, duplicate
//! keys and names, entries without a name, unknown fields (`newDigest`),
//! malformed digests, unquoted values that YAML 1.1 reads as numbers or
//! bools (`newTag: 1.10` fails kustomize's decoding), replica counts that
//! aren't integers, and several kustomization files in one directory.
//!
//! It reuses the span locator ([`Document::parse`]), which is stricter than
//! kustomize: it also refuses layouts kustomize accepts but kustomerge can't
//! edit (anchors, multi-line values). Those are *notes*, not problems, so a
//! valid file never blocks a push. The problems are what kustomize itself
//! would reject or misread, plus two spellings it tolerates but the tools
//! around it don't: `Images:` and `NewTag:` (kustomize matches keys
//! case-insensitively; Flux, Argo CD Image Updater and kustomerge's merge
//! match them exactly).
//!
//! With `--pre-push` it reads git's pre-push lines and checks the
//! kustomization files changed by the pushed commits as they are *in those
//! commits* (not in the worktree), with one `git cat-file --batch` for all
//! of them.
//!
//! With `--fix` it rewrites what is mechanical and safe, changing only the
//! fixed tokens' bytes: it quotes YAML 1.1 numbers and bools in the entries'
//! string fields (`newTag: 1.10` -> `newTag: "1.10"`; never a null, which
//! quoted would become the string `~`) and writes the field names kustomize
//! reads case-insensitively in their one spelling (`Images:`, `NewTag:`).
//! The rest it reports as usual, as what it could not fix; the JSON gains a
//! `fixed` list. A file kustomize could read before must read the same
//! after ([`crate::meaning::read`]), or nothing is written.
//!
//! Exit codes: 0 clean, [`exit::PROBLEMS`] (1) when anything was reported,
//! [`exit::ERROR`] (2) when the check itself could not run.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};
use serde::Serialize;

use crate::cli::{CheckArgs, Format};
use crate::exit;
use crate::git::Git;
use crate::kustomization::edit::is_yaml11_non_string;
use crate::kustomization::schema::ListSchema;
use crate::kustomization::setter::{current, entry_name, suggest_field};
use crate::kustomization::{self, Document, ErrorKind, FILE_NAMES, Field, KeyedList};

/// One thing kustomize would reject or misread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file, as given on the command line or as a repository path.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// A stable identifier (`unknown-field`, `yaml11-scalar`, ...).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

/// Something kustomize accepts but kustomerge could not look into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Why the file (or the rest of it) was not checked.
    pub message: String,
}

/// Everything one run found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// How many files were read.
    pub files_checked: usize,
    /// The problems, file by file in the order checked (with `--fix`, the
    /// ones left after fixing).
    pub problems: Vec<Problem>,
    /// Files or parts of files that were skipped, and why.
    pub notes: Vec<Note>,
    /// With `--fix` only: the problems fixed, where they were found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<Vec<Problem>>,
    /// The mechanical fix of each fixable problem: (index into
    /// `problems`, byte range of the file, replacement).
    #[serde(skip)]
    edits: Vec<(usize, std::ops::Range<usize>, String)>,
}

/// Runs `check`.
pub fn run(args: &CheckArgs) -> anyhow::Result<u8> {
    let report = match &args.pre_push {
        Some(remote) => pre_push(&Git::new(), &remote[0], std::io::stdin().lock())?,
        None => check_paths(&args.paths, args.fix)?,
    };
    // As a hook, everything is diagnostics: git shows the hook's stderr.
    let out: &mut dyn Write = if args.pre_push.is_some() {
        &mut std::io::stderr().lock()
    } else {
        &mut std::io::stdout().lock()
    };
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Text => print_text(&report, out)?,
    }
    Ok(if report.problems.is_empty() {
        exit::SUCCESS
    } else {
        exit::PROBLEMS
    })
}

fn print_text(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    for p in report.fixed.iter().flatten() {
        eprintln!(
            "{}:{}:{}: fixed: {} [{}]",
            p.file, p.line, p.column, p.message, p.code
        );
    }
    for p in &report.problems {
        writeln!(
            out,
            "{}:{}:{}: {} ({}) [{}]",
            p.file, p.line, p.column, p.message, p.fix, p.code
        )?;
    }
    for n in &report.notes {
        eprintln!("{}:{}:{}: note: {}", n.file, n.line, n.column, n.message);
    }
    let files = report
        .problems
        .iter()
        .map(|p| &p.file)
        .collect::<BTreeSet<_>>()
        .len();
    let fixed = report
        .fixed
        .as_ref()
        .map_or(String::new(), |f| format!(", {} fixed", f.len()));
    eprintln!(
        "kustomerge check: {} file(s) checked{fixed}, {} problem(s) in {files} file(s)",
        report.files_checked,
        report.problems.len()
    );
    Ok(())
}

impl Report {
    fn problem(
        &mut self,
        file: &str,
        (line, column): (usize, usize),
        code: &'static str,
        message: String,
        fix: String,
    ) {
        self.problems.push(Problem {
            file: file.to_owned(),
            line,
            column,
            code,
            message,
            fix,
        });
    }

    /// Records how to fix the problem just reported.
    fn fixable(&mut self, range: std::ops::Range<usize>, text: String) {
        self.edits.push((self.problems.len() - 1, range, text));
    }

    fn note(&mut self, file: &str, (line, column): (usize, usize), message: String) {
        self.notes.push(Note {
            file: file.to_owned(),
            line,
            column,
            message,
        });
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn position(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// Checks files and directories (recursively, skipping hidden directories).
/// An explicitly named file is checked whatever its name.
fn check_paths(paths: &[PathBuf], fix: bool) -> anyhow::Result<Report> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files).with_context(|| format!("could not read {}", path.display()))?;
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            bail!("{} does not exist", path.display());
        }
    }
    let mut report = Report {
        fixed: fix.then(Vec::new),
        ..Report::default()
    };
    let mut dirs_seen = BTreeSet::new();
    for file in &files {
        let label = file.display().to_string();
        let bytes = std::fs::read(file).with_context(|| format!("could not read {label}"))?;
        if fix {
            fix_file(file, &label, &bytes, &mut report)?;
        } else {
            check_bytes(&label, &bytes, &mut report);
        }
        let dir = file.parent().unwrap_or(Path::new(""));
        if is_kustomization_name(file) && dirs_seen.insert(dir.to_path_buf()) {
            let present: Vec<&str> = FILE_NAMES
                .iter()
                .copied()
                .filter(|n| dir.join(n).is_file())
                .collect();
            several_files(&dir.display().to_string(), &present, &mut report);
        }
    }
    Ok(report)
}

fn is_kustomization_name(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| FILE_NAMES.iter().any(|f| n == *f))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        // `file_type` doesn't follow symlinks, so a link loop can't trap us.
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() && !entry.file_name().to_string_lossy().starts_with('.') {
            walk(&path, out)?;
        } else if kind.is_file() && is_kustomization_name(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// kustomize refuses a directory holding more than one kustomization file.
fn several_files(dir: &str, present: &[&str], report: &mut Report) {
    if let [first, rest @ ..] = present
        && !rest.is_empty()
    {
        let sep = if dir.is_empty() { "" } else { "/" };
        report.problem(
            &format!("{dir}{sep}{}", rest[0]),
            (1, 1),
            "several-kustomizations",
            format!(
                "this directory holds {} kustomization files ({}); kustomize refuses to build it",
                present.len(),
                present.join(", ")
            ),
            format!("keep one (kustomize would read `{first}`) and delete the others"),
        );
    }
}

/// Checks one file's bytes; `file` labels what is reported.
pub fn check_bytes(file: &str, bytes: &[u8], report: &mut Report) {
    report.files_checked += 1;
    let src = match kustomization::decode(bytes) {
        Ok(src) => src,
        Err(e) => {
            report.problem(file, (e.line, e.column), "encoding", e.message, e.hint);
            return;
        }
    };
    if conflict_markers(file, src, report) {
        return;
    }
    let doc = match Document::parse(src) {
        Ok(doc) => doc,
        Err(e) => return unparsed(file, src, &e, report),
    };
    if let Some(api) = top_scalar(&doc, "apiVersion")
        && api.contains('/')
        && !api.starts_with("kustomize.config.k8s.io/")
    {
        let at = doc
            .keys
            .iter()
            .find(|k| k.name == "apiVersion")
            .map_or(1, |k| k.line);
        report.note(
            file,
            (at, 1),
            format!("apiVersion `{api}` is not kustomize's (a Flux Kustomization?); not checked"),
        );
        return;
    }
    top_level_keys(file, &doc, report);
    for list in &doc.lists {
        if let Some(schema) = ListSchema::for_key(&list.key) {
            entries(file, &doc, schema, list, report);
        }
    }
}

/// Reports leftover merge conflict markers. They are looked for before
/// parsing because the YAML error they cause points somewhere else.
fn conflict_markers(file: &str, src: &str, report: &mut Report) -> bool {
    let marker = |line: &str, c: char| {
        let run = line.len() - line.trim_start_matches(c).len();
        run >= 7
            && line[run..]
                .chars()
                .next()
                .is_none_or(|n| n == ' ' || n == '\r')
    };
    let lines: Vec<&str> = src.split('\n').collect();
    // `=======` alone is a legitimate line (in a block scalar, say); it is
    // a marker only next to an opening or closing one.
    let opened = lines.iter().any(|l| marker(l, '<') || marker(l, '>'));
    if !opened {
        return false;
    }
    for (i, line) in lines.iter().enumerate() {
        if ['<', '>', '|', '='].iter().any(|&c| marker(line, c)) {
            report.problem(
                file,
                (i + 1, 1),
                "conflict-marker",
                format!(
                    "leftover merge conflict marker `{}`",
                    line.trim_end_matches('\r')
                ),
                "resolve the conflict and delete the marker lines (`kustomerge install` registers a merge driver that resolves image-tag conflicts)".to_owned(),
            );
        }
    }
    true
}

/// Maps the locator's refusal to a problem when kustomize would reject the
/// file too, and to a note when only kustomerge's model is too narrow.
fn unparsed(file: &str, src: &str, e: &kustomization::Error, report: &mut Report) {
    let at = (e.line, e.column);
    // What the locator stopped at: an anchor, alias or tag is fine to
    // kustomize, a scalar or nested collection where a list or an entry's
    // string belongs is not.
    let token = src
        .split('\n')
        .nth(e.line.saturating_sub(1))
        .and_then(|l| l.chars().nth(e.column.saturating_sub(1)));
    let aliased = matches!(token, Some('&' | '*' | '!'));
    let code = match e.kind {
        ErrorKind::Syntax => Some("yaml-error"),
        ErrorKind::MultipleDocuments => Some("multiple-documents"),
        ErrorKind::NotAMapping => Some("not-a-mapping"),
        ErrorKind::DuplicateKey => Some("duplicate-key"),
        ErrorKind::KeyCase => Some("key-case"),
        ErrorKind::Structure if !aliased => Some("invalid-structure"),
        _ => None,
    };
    match code {
        // The locator's hint for these speaks of kustomerge's model; the
        // fix kustomize needs is about the structure itself.
        Some(code @ "invalid-structure") => report.problem(
            file,
            at,
            code,
            format!("{}; kustomize fails to decode it", e.message),
            "write entries as mappings (`- name: nginx` plus `newTag: ...` lines) whose fields hold plain strings".to_owned(),
        ),
        Some(code) => {
            report.problem(file, at, code, e.message.clone(), e.hint.clone());
            if e.kind == ErrorKind::KeyCase
                && let Some((range, name)) = key_case_fix(src, at)
            {
                report.fixable(range, name);
            }
        }
        // Unknown refusals are notes too: blocking a push on a file
        // kustomize accepts would be worse than missing a lint.
        None => report.note(
            file,
            at,
            format!(
                "{}: kustomize accepts this, but kustomerge can't look inside; the rest of the file was not checked",
                e.message
            ),
        ),
    }
}

/// A top-level scalar's value, unquoted (enough for `apiVersion`).
fn top_scalar(doc: &Document<'_>, key: &str) -> Option<String> {
    let k = doc.keys.iter().find(|k| k.name == key)?;
    let text = &doc.src[k.span.clone()];
    let value = text.split_once(':')?.1;
    let value = value.split(" #").next()?.trim();
    Some(value.trim_matches(['"', '\'']).to_owned())
}

/// The top-level fields of `api/types/kustomization.go` (kustomize v5).
const TOP_LEVEL: [&str; 34] = [
    "apiVersion",
    "kind",
    "metadata",
    "sortOptions",
    "resources",
    "bases",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "crds",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "configMapGenerator",
    "secretGenerator",
    "helmCharts",
    "helmChartInflationGenerator",
    "helmGlobals",
    "generatorOptions",
    "vars",
    "images",
    "replacements",
    "replicas",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "components",
    "openapi",
    "buildMetadata",
    "imageTags",
];

fn top_level_keys(file: &str, doc: &Document<'_>, report: &mut Report) {
    for key in &doc.keys {
        if TOP_LEVEL.iter().any(|k| k.eq_ignore_ascii_case(&key.name)) {
            continue;
        }
        let stem = |s: &str| s.to_ascii_lowercase().trim_end_matches('s').to_owned();
        let fix = match TOP_LEVEL.iter().find(|k| stem(k) == stem(&key.name)) {
            Some(k) => format!("did you mean `{k}:`?"),
            None => "remove it, or move it where it belongs".to_owned(),
        };
        report.problem(
            file,
            position(doc.src, key.span.start),
            "unknown-key",
            format!(
                "`{}:` is not a kustomization field; kustomize rejects the file",
                key.name
            ),
            fix,
        );
    }
}

fn entries(
    file: &str,
    doc: &Document<'_>,
    schema: &ListSchema,
    list: &KeyedList,
    report: &mut Report,
) {
    let src = doc.src;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for entry in &list.entries {
        let name = entry_name(src, entry);
        if name.is_empty() {
            report.problem(
                file,
                position(src, entry.start),
                "missing-name",
                format!("this `{}:` entry has no `name`", schema.key),
                "add `name:`; without it the entry selects nothing".to_owned(),
            );
        } else if let Some(first) = seen.get(name) {
            let f = entry
                .fields
                .iter()
                .find(|f| f.key(src).eq_ignore_ascii_case("name"));
            report.problem(
                file,
                f.map_or(position(src, entry.start), |f| position(src, f.value_span().start)),
                "duplicate-name",
                format!("`{name}` already has an entry at line {first}"),
                "merge the two entries: both apply on build (the later one wins), while `kustomize edit` keeps only the first".to_owned(),
            );
        } else {
            seen.insert(name, entry.line);
        }
        for f in &entry.fields {
            field(file, src, schema, f, report);
        }
    }
}

fn field(file: &str, src: &str, schema: &ListSchema, f: &Field, report: &mut Report) {
    let key = f.key(src);
    let key_at = position(src, f.key_span().start);
    let Some(known) = schema
        .fields
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(key))
    else {
        let fix = match suggest_field(schema, key) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("the fields are {}", schema.fields.join(", ")),
        };
        report.problem(
            file,
            key_at,
            "unknown-field",
            format!(
                "`{}` is not a field of `{}:` entries; kustomize rejects the file (it matches field names case-insensitively, so only the spelling counts)",
                key, schema.key
            ),
            fix,
        );
        return;
    };
    if known != key {
        report.problem(
            file,
            key_at,
            "field-case",
            format!(
                "`{key}` is read as `{known}` by kustomize, which matches field names case-insensitively, but Flux, Argo CD Image Updater and kustomerge match them exactly"
            ),
            format!("write `{known}`"),
        );
        report.fixable(f.key_span(), known.to_owned());
    }
    let Some(value) = current(src, f) else { return };
    let at = position(src, f.value_span().start);
    if known == "count" {
        count(file, f, value, at, report);
        return;
    }
    if f.plain() && is_yaml11_non_string(value) {
        report.problem(
            file,
            at,
            "yaml11-scalar",
            format!(
                "`{known}: {value}` is unquoted, so kustomize (YAML 1.1) reads a number or a bool and fails to decode it as a string"
            ),
            format!("quote it: `{known}: \"{value}\"`"),
        );
        // Quoting a value YAML reads as null would turn "absent" into the
        // string `~`; `current` has left those out already. A plain scalar
        // holding `"` or `\` (no number or bool does) would need escapes.
        if !value.contains(['"', '\\']) {
            report.fixable(f.value_span(), format!("\"{value}\""));
        }
    }
    if known == "digest"
        && let Some(why) = digest_problem(value)
    {
        report.problem(
            file,
            at,
            "malformed-digest",
            format!("`digest: {value}` {why}"),
            "write `<algorithm>:<hex>`, e.g. `sha256:` and 64 lowercase hex digits (`docker buildx imagetools inspect` prints it)".to_owned(),
        );
    }
    if known == "newTag" && value.contains(['@', '/', ' ']) {
        report.problem(
            file,
            at,
            "malformed-tag",
            format!("`newTag: {value}` is not a tag"),
            "put only the tag here; a digest goes in `digest`, a repository in `newName`"
                .to_owned(),
        );
    }
}

fn count(file: &str, f: &Field, value: &str, at: (usize, usize), report: &mut Report) {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    let integer = f.plain() && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if !integer {
        report.problem(
            file,
            at,
            "invalid-count",
            format!("`count: {}` is not an integer", &src_token(f, value)),
            "write a plain whole number, unquoted: `count: 3`".to_owned(),
        );
    } else if value.starts_with('-') {
        report.problem(
            file,
            at,
            "invalid-count",
            format!("`count: {value}` is negative"),
            "replica counts are 0 or more".to_owned(),
        );
    }
}

fn src_token(f: &Field, value: &str) -> String {
    if f.plain() {
        value.to_owned()
    } else {
        format!("\"{value}\"")
    }
}

/// Why a digest is malformed: OCI's `algorithm ":" encoded`, with the
/// lengths of the registered algorithms enforced.
fn digest_problem(value: &str) -> Option<&'static str> {
    let Some((alg, hex)) = value.split_once(':') else {
        return Some("has no `<algorithm>:` prefix");
    };
    let alg_ok = !alg.is_empty()
        && alg.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !alg_ok {
        return Some("has a malformed algorithm");
    }
    let lower_hex = |len: usize| {
        hex.len() == len
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    match alg {
        "sha256" if !lower_hex(64) => Some("is not 64 lowercase hex digits after `sha256:`"),
        "sha512" if !lower_hex(128) => Some("is not 128 lowercase hex digits after `sha512:`"),
        _ if hex.is_empty()
            || !hex
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b)) =>
        {
            Some("has a malformed encoded part")
        }
        _ => None,
    }
}

/// The canonical spelling of the top-level list key at `(line, column)`
/// (`Images:` -> `images`), when it is written plain: its byte range and
/// the name.
fn key_case_fix(
    src: &str,
    (line, column): (usize, usize),
) -> Option<(std::ops::Range<usize>, String)> {
    let line_start = if line <= 1 {
        0
    } else {
        src.match_indices('\n').nth(line - 2)?.0 + 1
    };
    let start = line_start
        + src[line_start..]
            .char_indices()
            .nth(column.checked_sub(1)?)?
            .0;
    let len = src[start..].find(':')?;
    let key = &src[start..start + len];
    let canonical = TOP_LEVEL
        .iter()
        .find(|k| k.eq_ignore_ascii_case(key) && **k != key)?;
    Some((start..start + len, (*canonical).to_owned()))
}

/// Passes of fix-then-recheck: a fix can uncover problems the first pass
/// could not see (a `Images:` key hides the list's entries), and a pass
/// that fixes nothing ends the loop.
const FIX_PASSES: usize = 4;

/// `check --fix` on one file: applies every fix the check offers, checks
/// again (up to [`FIX_PASSES`] times), writes the file when it changed, and
/// records in `report` what was fixed and what is left.
///
/// The fixes change only the bytes of the fixed tokens. As a guard against
/// a fix that changes what kustomize reads, a file the independent reader
/// ([`crate::meaning::read`]) could read before must read the same after;
/// otherwise nothing is written and the run fails.
fn fix_file(path: &Path, label: &str, bytes: &[u8], report: &mut Report) -> anyhow::Result<()> {
    let (text, fixed, left) = fix_bytes(label, bytes);
    if let Some(text) = &text {
        if let Ok(before) = crate::meaning::read(bytes) {
            let after = crate::meaning::read(text.as_bytes());
            if after.as_ref().ok() != Some(&before) {
                bail!(
                    "{label}: the fixes would change what kustomize reads ({}); nothing written. This is a bug in kustomerge: please report it with the file",
                    after
                        .err()
                        .map_or("different values".to_owned(), |e| e.to_string())
                );
            }
        }
        crate::commands::set_image::write_atomically(path, text.as_bytes())?;
    }
    report.files_checked += left.files_checked;
    report.problems.extend(left.problems);
    report.notes.extend(left.notes);
    report.fixed.get_or_insert_with(Vec::new).extend(fixed);
    Ok(())
}

/// The fixes of [`fix_file`] on bytes: the new text (`None` when nothing
/// was fixed), the problems fixed, and the report on the new text.
pub fn fix_bytes(label: &str, bytes: &[u8]) -> (Option<String>, Vec<Problem>, Report) {
    let mut text: Option<String> = None;
    let mut fixed = Vec::new();
    for _ in 0..FIX_PASSES {
        let mut report = Report::default();
        let current = text.as_deref().map_or(bytes, str::as_bytes);
        check_bytes(label, current, &mut report);
        let Ok(src) = std::str::from_utf8(current) else {
            return (text, fixed, report);
        };
        let mut edits = std::mem::take(&mut report.edits);
        edits.sort_by_key(|(_, range, _)| range.start);
        // Overlapping edits can't both apply; the later one waits a pass.
        let mut end = 0;
        edits.retain(|(_, range, _)| {
            let keep = range.start >= end;
            end = end.max(range.end);
            keep
        });
        if edits.is_empty() {
            return (text, fixed, report);
        }
        let mut out = String::with_capacity(src.len() + 2 * edits.len());
        let mut at = 0;
        for (i, range, replacement) in &edits {
            out.push_str(&src[at..range.start]);
            out.push_str(replacement);
            at = range.end;
            fixed.push(report.problems[*i].clone());
        }
        out.push_str(&src[at..]);
        text = Some(out);
    }
    let mut report = Report::default();
    check_bytes(
        label,
        text.as_deref().map_or(bytes, str::as_bytes),
        &mut report,
    );
    (text, fixed, report)
}

fn is_zero(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

/// Checks what a push would publish. `lines` are git's pre-push input:
/// `<local ref> <local sha> <remote ref> <remote sha>`.
fn pre_push(git: &Git, remote: &str, lines: impl BufRead) -> anyhow::Result<Report> {
    // (commit, path) pairs, each once.
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    for line in lines.lines() {
        let line = line.context("could not read the pre-push input")?;
        let words: Vec<&str> = line.split_whitespace().collect();
        let [_, local, _, remote_sha] = words[..] else {
            if line.trim().is_empty() {
                continue;
            }
            bail!(
                "unexpected pre-push input line {line:?} (want `<local ref> <sha> <remote ref> <sha>`)"
            );
        };
        if is_zero(local) {
            continue; // a deletion publishes nothing
        }
        for path in changed_paths(git, remote, local, remote_sha)? {
            if is_kustomization_name(Path::new(&path)) {
                wanted.insert((local.to_owned(), path));
            }
        }
    }
    let mut report = Report::default();
    let wanted: Vec<(String, String)> = wanted.into_iter().collect();
    let blobs = cat_file_batch(git, &wanted)?;
    for ((_, path), blob) in wanted.iter().zip(&blobs) {
        // Absent at the pushed commit: changed on the way, then deleted.
        if let Some(bytes) = blob {
            check_bytes(path, bytes, &mut report);
        }
    }
    let mut dirs: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (sha, path) in &wanted {
        dirs.entry(sha)
            .or_default()
            .insert(path.rsplit_once('/').map_or("", |(d, _)| d));
    }
    for (sha, dirs) in dirs {
        let tree = git.run(["ls-tree", "-r", "--name-only", "--full-tree", sha])?;
        let mut present: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for path in tree.lines() {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            if dirs.contains(dir)
                && let Some(n) = FILE_NAMES.iter().find(|n| **n == name)
            {
                present.entry(dir).or_default().push(n);
            }
        }
        for (dir, mut names) in present {
            names.sort_by_key(|n| FILE_NAMES.iter().position(|f| f == n));
            several_files(dir, &names, &mut report);
        }
    }
    Ok(report)
}

/// Repository paths a pushed commit changes (added, modified or renamed),
/// compared with what the remote already has.
fn changed_paths(
    git: &Git,
    remote: &str,
    local: &str,
    remote_sha: &str,
) -> anyhow::Result<Vec<String>> {
    let known = |sha: &str| git.succeeds(["cat-file", "-e", &format!("{sha}^{{commit}}")]);
    let out = if !is_zero(remote_sha) && known(remote_sha) {
        git.run([
            "diff",
            "--name-only",
            "--no-renames",
            "--diff-filter=d",
            remote_sha,
            local,
        ])?
    } else {
        // A new branch: what the remote's branches don't have yet, or the
        // whole commit when we know none of them.
        let pattern = format!("--remotes={remote}");
        let has_remote = !git
            .run(["rev-parse", &pattern])
            .unwrap_or_default()
            .is_empty();
        if has_remote {
            git.run([
                "log",
                "--format=",
                "--name-only",
                "--no-renames",
                "--diff-filter=d",
                local,
                "--not",
                &pattern,
            ])?
        } else {
            git.run(["ls-tree", "-r", "--name-only", "--full-tree", local])?
        }
    };
    Ok(out
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Reads `commit:path` blobs with one `git cat-file --batch`; `None` where
/// the path doesn't exist at that commit.
fn cat_file_batch(git: &Git, wanted: &[(String, String)]) -> anyhow::Result<Vec<Option<Vec<u8>>>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut cmd = git.command(["cat-file", "--batch"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = cmd.spawn().context("could not run git cat-file")?;
    let mut stdin = child.stdin.take().context("git cat-file has no stdin")?;
    let input: String = wanted
        .iter()
        .map(|(sha, path)| format!("{sha}:{path}\n"))
        .collect();
    // Written from a thread: git answers as it reads, and a full output
    // pipe would otherwise block both sides.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut stdout = BufReader::new(child.stdout.take().context("git cat-file has no stdout")?);
    let mut blobs = Vec::with_capacity(wanted.len());
    for _ in wanted {
        let mut header = String::new();
        stdout.read_line(&mut header)?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        match fields[..] {
            [_, "blob", size] => {
                let size: usize = size.parse().context("git cat-file: bad size")?;
                let mut blob = vec![0; size + 1];
                stdout.read_exact(&mut blob)?;
                blob.pop(); // the newline after each object
                blobs.push(Some(blob));
            }
            [_, _, size] => {
                // A tree or a submodule under a kustomization name.
                let size: u64 = size.parse().context("git cat-file: bad size")?;
                std::io::copy(&mut (&mut stdout).take(size + 1), &mut std::io::sink())?;
                blobs.push(None);
            }
            _ => blobs.push(None), // `<object> missing`
        }
    }
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("git cat-file writer panicked"))?
        .context("could not write to git cat-file")?;
    let status = child.wait()?;
    if !status.success() {
        bail!("git cat-file --batch failed ({status})");
    }
    Ok(blobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(src: &str) -> Vec<(usize, usize, &'static str)> {
        let mut report = Report::default();
        check_bytes("k.yaml", src.as_bytes(), &mut report);
        report
            .problems
            .iter()
            .map(|p| (p.line, p.column, p.code))
            .collect()
    }

    #[test]
    fn digests_follow_the_oci_grammar() {
        let good = "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3";
        assert_eq!(digest_problem(good), None);
        assert_eq!(digest_problem("blake3:abc_DEF="), None);
        for bad in [
            "24a0c4b4",
            "sha256:abc",
            "sha256:24A0C4B4A4C0EB97A1AABB8E29F18E917D05ABFE1B7A7C07857230879CE7D3D3",
            "SHA256:abc",
            ":abc",
            "sha256:",
            "sha512:abc",
        ] {
            assert!(digest_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn conflict_markers_are_found_before_parsing() {
        let src = "images:\n<<<<<<< ours\n- name: a\n=======\n- name: b\n>>>>>>> theirs\n";
        assert_eq!(
            codes(src),
            [
                (2, 1, "conflict-marker"),
                (4, 1, "conflict-marker"),
                (6, 1, "conflict-marker")
            ]
        );
        assert!(codes("patches:\n- patch: |\n    =======\n").is_empty());
    }

    #[test]
    fn each_entry_problem_has_a_position() {
        let src = "images:\n- name: a\n  newTag: 1.10\n  newDigest: sha256:x\n- newTag: v1\n- name: a\n  digest: sha256:abc\nreplicas:\n- name: w\n  count: \"3\"\n";
        assert_eq!(
            codes(src),
            [
                (3, 11, "yaml11-scalar"),
                (4, 3, "unknown-field"),
                (5, 1, "missing-name"),
                (6, 9, "duplicate-name"),
                (7, 11, "malformed-digest"),
                (10, 10, "invalid-count"),
            ]
        );
    }

    #[test]
    fn what_kustomize_accepts_is_a_note_not_a_problem() {
        let mut report = Report::default();
        let src = "x: &tag v1\nimages:\n- name: a\n  newTag: *tag\n";
        check_bytes("k.yaml", src.as_bytes(), &mut report);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.notes.len(), 1);
        // ... but a scalar where an entry belongs is kustomize's error too.
        assert_eq!(codes("images:\n- nginx\n"), [(2, 3, "invalid-structure")]);
    }
}
