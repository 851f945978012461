//! Hostile input through the real binary (issue 6).
//!
//! The driver runs unattended on every rebase, on files anyone with push
//! access can write, so whatever the inputs hold it must: never panic (exit
//! 101 reads as a conflict to git and keeps a half-written file); exit 0 or 1,
//! and >128 only when an input can't be read, leaving `%A` untouched; never
//! exit 0 with a wrong file (a fallback must be byte for byte what
//! `git merge-file` gives, a structured merge must hold both sides' edits);
//! stay within 10× the input size in memory; and never run anything the
//! inputs contain. How long these inputs take is `cargo bench`'s question
//! (the `hostile` group in `benches/merge.rs`): a time limit here would
//! measure the other builds sharing the machine.
//!
//! Peak memory is the child's maximum RSS from `/usr/bin/time -f %M` (it
//! includes `git merge-file` when the driver runs it); without that tool the
//! memory assertion is skipped with a note, or fails when `CI` is set.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::common::{Sandbox, bin, git_merge_file, hermetic, require_in_ci, stderr};
use crate::hostile_inputs::{alias_bomb, big_literal_generator, one_line_flow_list};

const TIME: &str = "/usr/bin/time";

/// A small valid kustomization; the sides bump `api` and `web`.
const BASE: &str = "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop
resources:
- deployment.yaml
images:
- name: api
  newTag: 1.0.0
- name: web
  newTag: 2.0.0
- name: worker
  newTag: 3.0.0
";
const BUMP_A: (&str, &str) = ("newTag: 1.0.0", "newTag: 1.0.1");
const BUMP_B: (&str, &str) = ("newTag: 2.0.0", "newTag: 2.0.1");

/// One driver run.
struct Run {
    code: Option<i32>,
    result: Vec<u8>,
    stderr: String,
    /// Peak RSS in bytes, when `/usr/bin/time` is there to measure it.
    peak: Option<u64>,
}

impl Run {
    fn fell_back(&self) -> bool {
        self.stderr.contains("using git's line merge")
    }
}

/// Runs `kustomerge merge base current other 7 kustomization.yaml` in a
/// fresh folder under the sandbox, as git would, with extra `args` first.
fn drive(sb: &Sandbox, case: &str, inputs: [&[u8]; 3], args: &[&str]) -> Run {
    let dir = case_dir(sb, case, inputs);
    let mut positional: Vec<&str> = args.to_vec();
    positional.extend(["base", "current", "other", "7", "kustomization.yaml"]);
    run_in(sb, &dir, &positional, "current")
}

/// A fresh folder under the sandbox holding `base`, `current` and `other`.
fn case_dir(sb: &Sandbox, case: &str, inputs: [&[u8]; 3]) -> std::path::PathBuf {
    let dir = sb.path().join(case);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in ["base", "current", "other"].iter().zip(inputs) {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    dir
}

/// Runs `kustomerge merge ARGS` in `dir`; `current` is the `%A` argument.
fn run_in(sb: &Sandbox, dir: &Path, args: &[&str], current: &str) -> Run {
    let peak_file = dir.join(".peak-rss");
    let _ = std::fs::remove_file(&peak_file);
    let measured = Path::new(TIME).exists();
    let mut cmd = if measured {
        let mut c = Command::new(TIME);
        c.arg("-f").arg("%M").arg("-o").arg(&peak_file).arg(bin());
        c
    } else {
        Command::new(bin())
    };
    hermetic(&mut cmd, &sb.home());
    cmd.current_dir(dir).arg("merge").args(args);
    let out = cmd.output().unwrap();
    let peak = measured.then(|| {
        let text = std::fs::read_to_string(&peak_file).unwrap();
        // GNU time reports kilobytes; a signal adds a "Command terminated" line first.
        text.lines().last().unwrap().trim().parse::<u64>().unwrap() * 1024
    });
    Run {
        code: out.status.code(),
        result: std::fs::read(dir.join(current)).unwrap_or_default(),
        stderr: stderr(&out),
        peak,
    }
}

/// The properties every run must have, whatever the input.
fn assert_sound(sb: &Sandbox, case: &str, inputs: [&[u8]; 3], run: &Run) {
    assert!(
        matches!(run.code, Some(0 | 1)),
        "{case}: exit {:?} (0 or 1 expected; 101 is a panic, None a signal)\n{}",
        run.code,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{case}: {}", run.stderr);
    let input: u64 = inputs.iter().map(|i| i.len() as u64).sum();
    match run.peak {
        // The constant covers the binary itself and git for small inputs;
        // 11x covers the independent check, which holds what kustomize
        // reads of three inputs and the result at once.
        Some(peak) => assert!(
            peak < 11 * input + 32 * 1024 * 1024,
            "{case}: peak RSS {} KiB for {} KiB of input",
            peak >> 10,
            input >> 10
        ),
        None => {
            require_in_ci(false, TIME, &format!("{case}'s peak memory bound"));
        }
    }
    if run.fell_back() {
        let (want, git_code) = git_merge_file(sb, inputs);
        assert!(
            run.result == want,
            "{case}: the fallback differs from git merge-file\n{}",
            run.stderr
        );
        assert_eq!(
            run.code,
            Some(i32::from(git_code > 0)),
            "{case}: exit code vs git's {git_code}"
        );
    }
}

fn edit(s: &str, (from, to): (&str, &str)) -> String {
    assert!(s.contains(from), "test setup: {from:?} not in the input");
    s.replacen(from, to, 1)
}

/// Base, current and other for two edits of `base`, and the expected bytes
/// of their clean merge: both edits applied.
fn both(base: &str, a: (&str, &str), b: (&str, &str)) -> [String; 4] {
    [
        base.to_owned(),
        edit(base, a),
        edit(base, b),
        edit(&edit(base, a), b),
    ]
}

/// Base, current and other for two edits that collide.
fn collide(base: &str, a: (&str, &str), b: (&str, &str)) -> [String; 3] {
    [base.to_owned(), edit(base, a), edit(base, b)]
}

fn bytes(inputs: &[String; 4]) -> [&[u8]; 3] {
    [
        inputs[0].as_bytes(),
        inputs[1].as_bytes(),
        inputs[2].as_bytes(),
    ]
}

/// A case whose clean result is known: it must merge to exactly `want`, or,
/// if the driver fell back, to exactly what git gives.
fn expect_clean_or_git(sb: &Sandbox, case: &str, texts: &[String; 4]) -> Run {
    let inputs = bytes(texts);
    let run = drive(sb, case, inputs, &[]);
    assert_sound(sb, case, inputs, &run);
    if !run.fell_back() {
        assert_eq!(run.code, Some(0), "{case}: {}", run.stderr);
        assert!(
            run.result == texts[3].as_bytes(),
            "{case}: wrong clean result:\n{}",
            String::from_utf8_lossy(&run.result)
        );
    }
    run
}

fn expect_fallback(sb: &Sandbox, case: &str, inputs: [&[u8]; 3]) -> Run {
    let run = drive(sb, case, inputs, &[]);
    assert_sound(sb, case, inputs, &run);
    assert!(
        run.fell_back(),
        "{case}: expected git's line merge, got: {}",
        run.stderr
    );
    run
}

#[test]
fn invalid_yaml_in_any_one_input_falls_back_to_git() {
    let sb = Sandbox::new();
    let [o, a, b, _] = both(BASE, BUMP_A, BUMP_B);
    for (i, which) in ["base", "current", "other"].iter().enumerate() {
        let mut texts = [o.clone(), a.clone(), b.clone()];
        texts[i] = texts[i].replacen("namespace: shop", "namespace: [shop", 1);
        let inputs = [
            texts[0].as_bytes(),
            texts[1].as_bytes(),
            texts[2].as_bytes(),
        ];
        let run = expect_fallback(&sb, &format!("invalid_{which}"), inputs);
        assert!(
            run.stderr.contains(&format!("{which} input")),
            "the message names the input: {}",
            run.stderr
        );
    }
}

#[test]
fn tabs_fall_back_when_they_indent_and_merge_when_they_separate() {
    let sb = Sandbox::new();
    let indented = BASE
        .replace("\n- name:", "\n\t- name:")
        .replace("\n  newTag", "\n\t  newTag");
    let [o, a, b, _] = both(&indented, BUMP_A, BUMP_B);
    expect_fallback(
        &sb,
        "tab_indent",
        [o.as_bytes(), a.as_bytes(), b.as_bytes()],
    );
    let separated = BASE.replace("namespace: shop", "namespace:\tshop\t# tabbed");
    expect_clean_or_git(&sb, "tab_separator", &both(&separated, BUMP_A, BUMP_B));
}

#[test]
fn several_documents_fall_back() {
    let sb = Sandbox::new();
    let multi = format!("---\n{BASE}---\napiVersion: v1\nkind: ConfigMap\n");
    let [o, a, b, _] = both(&multi, BUMP_A, BUMP_B);
    expect_fallback(&sb, "multi_doc", [o.as_bytes(), a.as_bytes(), b.as_bytes()]);
}

/// Characters YAML forbids (C0 controls, DEL, C1 controls, U+FFFE) make a
/// file invalid wherever they stand, also inside a keyed list or a
/// `resources:` list the line scanner reads.
#[test]
fn characters_yaml_forbids_fall_back_wherever_they_stand() {
    let sb = Sandbox::new();
    for (i, c) in ['\u{1}', '\u{7f}', '\u{9f}', '\u{fffe}']
        .into_iter()
        .enumerate()
    {
        for (place, at) in [
            ("list", "newTag: 3.0.0"),
            ("resources", "- deployment.yaml"),
        ] {
            let poisoned = BASE.replacen(at, &format!("{at}{c}"), 1);
            let [o, a, b, _] = both(&poisoned, BUMP_A, BUMP_B);
            expect_fallback(
                &sb,
                &format!("forbidden_{i}_in_{place}"),
                [o.as_bytes(), a.as_bytes(), b.as_bytes()],
            );
        }
    }
}

#[test]
fn anchors_aliases_and_an_alias_bomb() {
    let sb = Sandbox::new();
    // Outside the lists an alias is just text: the merge goes on, and
    // nothing expands the bomb.
    let bomb = BASE.replace("resources:", &format!("{}resources:", alias_bomb()));
    expect_clean_or_git(&sb, "bomb_outside", &both(&bomb, BUMP_A, BUMP_B));
    // In a keyed list, aliases mean fallback.
    let aliased = BASE.replace(
        "- name: web\n  newTag: 2.0.0",
        "- &web\n  name: web\n  newTag: 2.0.0\n- *web",
    );
    let [o, a, b, _] = both(
        &aliased,
        BUMP_A,
        (
            "name: worker\n  newTag: 3.0.0",
            "name: worker\n  newTag: 3.0.1",
        ),
    );
    expect_fallback(
        &sb,
        "alias_entry",
        [o.as_bytes(), a.as_bytes(), b.as_bytes()],
    );
    let list_alias = format!(
        "{}{}",
        alias_bomb(),
        BASE.replace("images:\n", "images: &imgs\n")
    );
    let [o, a, b, _] = both(&list_alias, BUMP_A, BUMP_B);
    expect_fallback(
        &sb,
        "anchored_list",
        [o.as_bytes(), a.as_bytes(), b.as_bytes()],
    );
    let bomb_in_list = format!("{}images: *l9\nnamespace: shop\n", alias_bomb());
    let [o, a, b, _] = both(
        &bomb_in_list,
        ("lol0:", "# the bomb\nlol0:"),
        ("namespace: shop", "namespace: store"),
    );
    expect_fallback(
        &sb,
        "bomb_as_list",
        [o.as_bytes(), a.as_bytes(), b.as_bytes()],
    );
}

#[test]
fn duplicate_keys() {
    let sb = Sandbox::new();
    let twice = format!("{BASE}images:\n- name: cron\n  newTag: 4.0.0\n");
    let [o, a, b, _] = both(&twice, BUMP_A, BUMP_B);
    expect_fallback(
        &sb,
        "images_twice",
        [o.as_bytes(), a.as_bytes(), b.as_bytes()],
    );
    let field_twice = BASE.replace("  newTag: 3.0.0", "  newTag: 3.0.0\n  newTag: 3.0.9");
    let [o, a, b, _] = both(&field_twice, BUMP_A, BUMP_B);
    expect_fallback(
        &sb,
        "field_twice",
        [o.as_bytes(), a.as_bytes(), b.as_bytes()],
    );
    let name_twice = format!("{BASE}- name: api\n  newTag: 9.0.0\n");
    let [o, a, b, _] = both(&name_twice, BUMP_A, BUMP_B);
    expect_fallback(
        &sb,
        "name_twice",
        [o.as_bytes(), a.as_bytes(), b.as_bytes()],
    );
    // A repeated key outside the lists is the user's (kustomize rejects
    // it); the driver must neither fix nor break it.
    let other_twice = BASE.replace("resources:", "namespace: shop2\nresources:");
    expect_clean_or_git(&sb, "namespace_twice", &both(&other_twice, BUMP_A, BUMP_B));
}

#[test]
fn nesting_a_hundred_thousand_deep() {
    let sb = Sandbox::new();
    let depth = 100_000;
    let flow = format!("deep: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let block = format!("deep:\n {}leaf\n", "- ".repeat(depth));
    let mapping = flow.replace('[', "{a: ").replace(']', "}");
    for (name, nest) in [("flow", &flow), ("mapping", &mapping), ("dash", &block)] {
        let nested = BASE.replace("resources:", &format!("{nest}resources:"));
        expect_clean_or_git(
            &sb,
            &format!("deep_{name}_everywhere"),
            &both(&nested, BUMP_A, BUMP_B),
        );
        // The whole of one side.
        let [o, a, _, _] = both(BASE, BUMP_A, BUMP_B);
        let inputs = [o.as_bytes(), a.as_bytes(), nest.as_bytes()];
        let run = drive(&sb, &format!("deep_{name}_one_side"), inputs, &[]);
        assert_sound(&sb, name, inputs, &run);
    }
}

/// A kustomization whose body is a `size`-byte ConfigMap literal.
fn big_literal(size: usize) -> String {
    BASE.replace(
        "resources:",
        &format!("{}resources:", big_literal_generator(size)),
    )
}

/// A kustomization whose body is a `size`-byte `resources:` list: many small
/// nodes, the slowest shape to parse.
fn big_resources(size: usize) -> String {
    let mut s = String::with_capacity(size + 1024);
    let mut i = 0;
    while s.len() < size {
        s.push_str(&format!("- deploy/app-{i:09}.yaml\n"));
        i += 1;
    }
    BASE.replace("- deployment.yaml\n", &s)
}

#[test]
fn ten_megabytes() {
    let sb = Sandbox::new();
    let run = expect_clean_or_git(&sb, "10mb", &both(&big_literal(10 << 20), BUMP_A, BUMP_B));
    assert!(!run.fell_back());
}

#[test]
#[ignore = "slow in a debug build (about 15 s and 2 minutes): cargo test --release -- --ignored hostile"]
fn a_hundred_megabytes() {
    let sb = Sandbox::new();
    expect_clean_or_git(&sb, "100mb", &both(&big_literal(100 << 20), BUMP_A, BUMP_B));
    expect_clean_or_git(
        &sb,
        "10mb_nodes",
        &both(&big_resources(10 << 20), BUMP_A, BUMP_B),
    );
}

/// A million one-character `resources:` items after the images, under an
/// address-space limit. The line scanner reserves room for a list's entries
/// by counting its sequence items; it once counted the resources' too, and
/// the driver died with SIGABRT (exit 134) when the reservation, or an
/// allocation after it, exceeded the limit.
#[test]
fn an_address_space_limit_does_not_abort_the_driver() {
    let sb = Sandbox::new();
    let base = format!(
        "images:\n- name: api\n  newTag: 1.0.0\n- name: web\n  newTag: 2.0.0\nresources:\n{}",
        "- a\n".repeat(1_000_000)
    );
    let [o, a, b, want] = both(&base, BUMP_A, BUMP_B);
    let dir = case_dir(
        &sb,
        "address_space",
        [o.as_bytes(), a.as_bytes(), b.as_bytes()],
    );
    // 400 MB of address space: the merge runs in 100 MB, and the independent
    // check reads all four texts into trees on a second thread (a million
    // resources are 150 MB of tree while one is read), which leaves less
    // than a reservation for a million entries on top.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 400000 && exec \"$0\" merge base current other 7 kustomization.yaml")
        .arg(bin())
        .current_dir(&dir);
    hermetic(&mut cmd, &sb.home());
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::read(dir.join("current")).unwrap() == want.as_bytes());
}

#[test]
fn a_one_megabyte_line() {
    let sb = Sandbox::new();
    let scalar = BASE.replace(
        "namespace: shop",
        &format!("namespace: shop\ndescription: {}", "x".repeat(1 << 20)),
    );
    expect_clean_or_git(&sb, "1mb_scalar", &both(&scalar, BUMP_A, BUMP_B));
    let comment = BASE.replace(
        "namespace: shop",
        &format!("namespace: shop # {}", "y".repeat(1 << 20)),
    );
    expect_clean_or_git(&sb, "1mb_comment", &both(&comment, BUMP_A, BUMP_B));
}

#[test]
fn a_one_megabyte_flow_list_on_one_line() {
    let sb = Sandbox::new();
    let o = one_line_flow_list();
    let a = o
        .replacen(
            "{name: img-000100, newTag: 1.0.0}",
            "{name: img-000100, newTag: 9.9.9}",
            1,
        )
        .replacen("]\n", ", {name: new-a, newTag: 1.0.0}]\n", 1);
    let b = o.replacen(
        "{name: img-020000, newTag: 1.0.0}",
        "{name: img-020000, newTag: 8.8.8}",
        1,
    );
    let want = a.replacen(
        "{name: img-020000, newTag: 1.0.0}",
        "{name: img-020000, newTag: 8.8.8}",
        1,
    );
    expect_clean_or_git(&sb, "1mb_flow", &[o, a, b, want]);
}

#[test]
fn nul_bytes_and_non_utf8() {
    let sb = Sandbox::new();
    let [o, a, b, _] = both(&BASE.replace("shop", "caf\u{e9}"), BUMP_A, BUMP_B);
    let latin1 = |s: &str| {
        s.replace('\u{e9}', "\u{1}")
            .into_bytes()
            .into_iter()
            .map(|c| if c == 1 { 0xe9 } else { c })
            .collect::<Vec<u8>>()
    };
    let (lo, la, lb) = (latin1(&o), latin1(&a), latin1(&b));
    expect_fallback(&sb, "latin1", [&lo, &la, &lb]);
    // Only one side non-UTF-8.
    expect_fallback(&sb, "latin1_other", [o.as_bytes(), a.as_bytes(), &lb]);
}

#[test]
fn nul_bytes_are_a_conflict_that_keeps_current() {
    let sb = Sandbox::new();
    let [o, a, b, _] = both(
        &BASE.replace("namespace: shop", "namespace: sh\0op"),
        BUMP_A,
        BUMP_B,
    );
    let inputs = [o.as_bytes(), a.as_bytes(), b.as_bytes()];
    let run = drive(&sb, "nul", inputs, &[]);
    // What git's own merge does with binary content: keep ours, report a conflict.
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.result, a.as_bytes());
}

#[test]
fn byte_order_mark() {
    let sb = Sandbox::new();
    let bom = format!("\u{feff}{BASE}");
    expect_clean_or_git(&sb, "bom_everywhere", &both(&bom, BUMP_A, BUMP_B));
    // The current side adds a BOM while the other bumps.
    let [o, a, b, _] = both(BASE, BUMP_A, BUMP_B);
    let texts = [
        o,
        format!("\u{feff}{a}"),
        b.clone(),
        format!("\u{feff}{}", b.replacen(BUMP_A.0, BUMP_A.1, 1)),
    ];
    expect_clean_or_git(&sb, "bom_added", &texts);
}

#[test]
fn mixed_line_endings_are_kept_line_by_line() {
    let sb = Sandbox::new();
    let mixed = BASE
        .replace("kind: Kustomization\n", "kind: Kustomization\r\n")
        .replace("  newTag: 2.0.0\n", "  newTag: 2.0.0\r\n");
    expect_clean_or_git(&sb, "mixed_eol", &both(&mixed, BUMP_A, BUMP_B));
    let crlf_first = BASE.replacen('\n', "\r\n", 1);
    let appended = (
        "- name: worker\n  newTag: 3.0.0\n",
        "- name: worker\n  newTag: 3.0.0\n- name: cron\n  newTag: 4.0.0\n",
    );
    expect_clean_or_git(&sb, "crlf_first_line", &both(&crlf_first, BUMP_A, appended));
}

#[test]
fn empty_files() {
    let sb = Sandbox::new();
    let [o, a, b, _] = both(BASE, BUMP_A, BUMP_B);
    let run = drive(&sb, "all_empty", [b"", b"", b""], &[]);
    assert_sound(&sb, "all_empty", [b"", b"", b""], &run);
    assert_eq!((run.code, run.result.len()), (Some(0), 0));
    // An add/add merge (empty base) of the same file with different bumps.
    let inputs = [&b""[..], a.as_bytes(), b.as_bytes()];
    let run = drive(&sb, "empty_base", inputs, &[]);
    assert_sound(&sb, "empty_base", inputs, &run);
    assert_eq!(
        run.code,
        Some(1),
        "with no base, a differing key is a conflict: {}",
        String::from_utf8_lossy(&run.result)
    );
    // One side emptied the file while the other bumped a tag.
    for (case, inputs) in [
        ("current_emptied", [o.as_bytes(), &b""[..], b.as_bytes()]),
        ("other_emptied", [o.as_bytes(), a.as_bytes(), &b""[..]]),
    ] {
        let run = drive(&sb, case, inputs, &[]);
        assert_sound(&sb, case, inputs, &run);
        assert_eq!(
            run.code,
            Some(1),
            "{case}: emptying vs bumping is a conflict:\n{}",
            String::from_utf8_lossy(&run.result)
        );
    }
    // Whitespace only.
    let blank = [&b"\n\n"[..], b"\n", b"   \n"];
    let run = drive(&sb, "blank", blank, &[]);
    assert_sound(&sb, "blank", blank, &run);
}

#[test]
fn conflict_markers_in_the_inputs_lengthen_the_markers() {
    let sb = Sandbox::new();
    // A conflict someone committed, outside the lists: not YAML, so git's
    // line merge runs, with 8-character markers for the new conflict.
    let committed = BASE.replace(
        "namespace: shop\n",
        "<<<<<<< HEAD\nnamespace: shop\n=======\nnamespace: store\n>>>>>>> main\n",
    );
    let [o, a, b] = collide(&committed, BUMP_A, ("newTag: 1.0.0", "newTag: 1.0.2"));
    let run = expect_fallback(
        &sb,
        "committed_conflict",
        [o.as_bytes(), a.as_bytes(), b.as_bytes()],
    );
    assert_eq!(run.code, Some(1));
    let text = String::from_utf8(run.result).unwrap();
    assert!(
        text.contains("\n<<<<<<<< ours\n") && text.contains("\n>>>>>>>> theirs\n"),
        "{text}"
    );
    // Valid YAML can hold a marker-like line too (inside a flow sequence):
    // the structured conflict's markers must outgrow it.
    let flow = BASE.replace("resources:", "notes: [\n=======\n]\nresources:");
    let [o, a, b] = collide(&flow, BUMP_A, ("newTag: 1.0.0", "newTag: 1.0.2"));
    let inputs = [o.as_bytes(), a.as_bytes(), b.as_bytes()];
    let run = drive(&sb, "marker_in_yaml", inputs, &[]);
    assert_sound(&sb, "marker_in_yaml", inputs, &run);
    assert!(!run.fell_back(), "{}", run.stderr);
    let text = String::from_utf8(run.result).unwrap();
    assert_eq!(run.code, Some(1));
    assert!(
        text.contains("\n- name: api\n<<<<<<<< ours\n  newTag: 1.0.1\n========\n  newTag: 1.0.2\n>>>>>>>> theirs\n"),
        "{text}"
    );
}

#[test]
fn symlinks_and_unreadable_paths() {
    let sb = Sandbox::new();
    let [o, a, b, want] = both(BASE, BUMP_A, BUMP_B);
    let dir = sb.path().join("links");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in [("real-base", &o), ("real-current", &a), ("real-other", &b)] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let link = |from: &str, to: &str| std::os::unix::fs::symlink(to, dir.join(from)).unwrap();
    link("base", "real-base");
    link("current", "real-current");
    link("other", "real-other");
    let run = run_in(
        &sb,
        &dir,
        &["base", "current", "other", "7", "kustomization.yaml"],
        "current",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // Git re-reads `%A` by name: the result is there, and the atomic rename
    // replaced the link itself, so the file it pointed to is untouched.
    assert_eq!(std::fs::read_to_string(dir.join("current")).unwrap(), want);
    assert_eq!(
        std::fs::read_to_string(dir.join("real-current")).unwrap(),
        a
    );

    // Inputs that can't be read: >128, so git aborts the merge rather than
    // record a conflict, and `%A` is left exactly as it was.
    link("dangling", "no-such-file");
    std::fs::create_dir_all(dir.join("a-directory")).unwrap();
    let unreadable = dir.join("unreadable");
    std::fs::write(&unreadable, &o).unwrap();
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut bad = vec!["dangling", "a-directory", "missing"];
    // Root reads a mode-000 file anyway.
    if std::fs::read(&unreadable).is_err() {
        bad.push("unreadable");
    }
    for bad in bad {
        for position in 0..3 {
            std::fs::write(dir.join("cur"), &a).unwrap();
            let mut args = vec!["real-base", "cur", "real-other", "7", "kustomization.yaml"];
            args[position] = bad;
            let run = run_in(&sb, &dir, &args, "cur");
            assert_eq!(
                run.code,
                Some(129),
                "{bad} as argument {position}: {}",
                run.stderr
            );
            assert!(run.stderr.contains("cannot merge"), "{}", run.stderr);
            if position != 1 {
                assert_eq!(
                    std::fs::read_to_string(dir.join("cur")).unwrap(),
                    a,
                    "{bad}: %A was touched"
                );
            }
        }
    }
}

#[test]
fn nothing_in_the_inputs_is_ever_executed() {
    let sb = Sandbox::new();
    let witness = sb.path().join("pwned");
    let payloads = [
        format!("$(touch {})", witness.display()),
        format!("`touch {}`", witness.display()),
        format!("; touch {}", witness.display()),
    ];
    for (i, payload) in payloads.iter().enumerate() {
        // In a label, a value, a comment, and the `%P` path; conflicting so
        // labels are written, once structured and once through git.
        let texts = BASE.replace("namespace: shop", &format!("namespace: shop # {payload}"));
        let [o, a, b] = collide(
            &texts,
            BUMP_A,
            ("newTag: 1.0.0", &format!("newTag: \"{payload}\"")),
        );
        let label = format!("ours {payload}");
        let args = ["-x", &label, "-y", payload, "-s", payload];
        let inputs = [o.as_bytes(), a.as_bytes(), b.as_bytes()];
        let dir = sb.path().join(format!("exec{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in ["base", "current", "other"].iter().zip(inputs) {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        let mut all = args.to_vec();
        all.extend(["base", "current", "other", "7", payload]);
        let run = run_in(&sb, &dir, &all, "current");
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        let text = String::from_utf8(run.result).unwrap();
        assert!(text.contains(&format!("<<<<<<< {label}\n")), "{text}");
        assert!(text.contains(&format!(">>>>>>> {payload}\n")), "{text}");
        // The same through git's line merge (tabs make the file invalid YAML).
        let tabbed: Vec<String> = [&o, &a, &b]
            .iter()
            .map(|t| t.replace("kind:", "\tkind:"))
            .collect();
        for (name, text) in ["base", "current", "other"].iter().zip(&tabbed) {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let run = run_in(&sb, &dir, &all, "current");
        assert!(run.fell_back(), "{}", run.stderr);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        assert!(
            String::from_utf8(run.result)
                .unwrap()
                .contains(&format!(">>>>>>> {payload}\n"))
        );
    }
    // File names git could pass, since `%P` comes from the repository.
    let odd = sb
        .path()
        .join(format!("$(touch {})", witness.display()).replace('/', "_"));
    std::fs::create_dir_all(&odd).unwrap();
    let [o, a, b, _] = both(BASE, BUMP_A, BUMP_B);
    let names = ["`touch pwned`", "$(touch pwned)", "; touch pwned"];
    for (name, text) in names.iter().zip([&o, &a, &b]) {
        std::fs::write(odd.join(name), text).unwrap();
    }
    let run = run_in(
        &sb,
        &odd,
        &[names[0], names[1], names[2], "7", names[1]],
        names[1],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        !witness.exists() && !odd.join("pwned").exists(),
        "an input was executed"
    );
}

#[test]
fn lone_carriage_returns_fall_back_with_a_plain_reason() {
    let sb = Sandbox::new();
    let o =
        "images:\n- name: api\n  newTag: 1.0.0\n- name: web\n  newName: x/web\n  newTag: 2.0.0\n";
    let b = o.replace("newName", "newNamX");
    // After the key (fixture fuzz_3), and inside an entry. YAML reads a lone
    // CR as a line break; the locator's lines end at LF only, so these must
    // go to git's line merge.
    for (case, a) in [
        (
            "cr_after_key",
            o.replace("images:\n", "images:\r")
                .replace("2.0.0", "2.1.0"),
        ),
        (
            "cr_in_entry",
            o.replace("api\n", "api\r").replace("1.0.0", "1.0.1"),
        ),
    ] {
        let inputs = [o.as_bytes(), a.as_bytes(), b.as_bytes()];
        let run = drive(&sb, case, inputs, &[]);
        assert_sound(&sb, case, inputs, &run);
        assert!(
            run.fell_back() && !run.stderr.contains("please report"),
            "{case}: {}",
            run.stderr
        );
    }
}
