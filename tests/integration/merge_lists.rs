//! The lists of strings (`resources:`, `components:`, `bases:`, ...) of the
//! real files in `fixtures/corpus/kustomize/files`, edited on two sides.
//!
//! For every list kustomerge models, generated concurrent edits on each side
//! (add, remove, rename, re-pin a remote base, reorder) are merged twice:
//! by `kustomerge` (in-process, with its independent check) and by
//! `git merge-file`. Disjoint edits must give the exact bytes of both edits
//! applied by hand; edits of the same item must conflict. The counts of
//! cases each tool gets right are printed (the README quotes them).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use kustomerge::kustomization::edit::splice;
use kustomerge::kustomization::items::{ItemList, item_lists};
use kustomerge::kustomization::schema::{ItemShape, Order, pin};
use kustomerge::merge::{self, Options};

use crate::common::{Sandbox, corpus, data_files, git_merge_file, kubectl_build};

/// One generated edit: replacement spans on the base text.
type Edit = Vec<(Range<usize>, String)>;

/// What a pair of edits must merge to.
enum Want {
    /// These bytes, cleanly.
    Bytes(String),
    /// A conflict.
    Conflict,
}

/// A base file's list and how its lines are written.
struct Ctx<'a> {
    src: &'a str,
    list: &'a ItemList<'a>,
    eol: &'static str,
    indent: String,
}

impl Ctx<'_> {
    fn n(&self) -> usize {
        self.list.items.len()
    }

    /// A new item's line, identified by `value`, as the list's items are
    /// written: a string, a map entry by its identifying field, a pair.
    fn line(&self, value: &str) -> String {
        let indent = &self.indent;
        match self.list.schema.shape {
            ItemShape::Strings | ItemShape::Assignments => format!("{indent}- {value}"),
            ItemShape::Entries(fields) => {
                let field = if fields.contains(&"path") {
                    "path"
                } else {
                    fields[fields.len() - 1]
                };
                format!("{indent}- {field}: {value}")
            }
            ItemShape::Pairs => format!("{indent}{value}: x"),
            ItemShape::Scalar => unreachable!("a scalar has no items to add"),
        }
    }

    /// A new item after item `i` (its line break and its line).
    fn insert_after(&self, i: usize, value: &str) -> Edit {
        let at = self.list.items[i].span.end;
        vec![(at..at, format!("{}{}", self.eol, self.line(value)))]
    }

    /// Item `i` gone, with the comments above it and its line break.
    fn remove(&self, i: usize) -> Edit {
        let span = &self.list.items[i].span;
        let end = self.src[span.end..]
            .find('\n')
            .map_or(self.src.len(), |p| span.end + p + 1);
        if end == self.src.len() && !self.src.ends_with('\n') {
            // The last line has no break: take the one before the item.
            let start = self.src[..span.start].trim_end_matches(['\r', '\n']).len();
            return vec![(start..span.end, String::new())];
        }
        vec![(span.start..end, String::new())]
    }

    /// Item `i` identified by `value` instead (a string's text; an entry's
    /// or a pair's lines, the comments above kept).
    fn rename(&self, i: usize, value: &str) -> Edit {
        let item = &self.list.items[i];
        let v = item.value;
        let at = item.value_start(self.src);
        match self.list.schema.shape {
            ItemShape::Strings | ItemShape::Assignments => {
                vec![(at..at + v.len(), value.to_owned())]
            }
            ItemShape::Entries(_) => vec![(at..item.span.end, self.line(value))],
            ItemShape::Scalar => unreachable!("a scalar has no items to rename"),
            ItemShape::Pairs => {
                let start = self.src[..item.span.end].rfind('\n').map_or(0, |p| p + 1);
                vec![(start..item.span.end, self.line(value))]
            }
        }
    }

    /// A comment line put above item `i`: a change to the item that keeps
    /// its identity.
    fn touch(&self, i: usize, by: &str) -> Edit {
        let at = self.list.items[i].span.start;
        vec![(
            at..at,
            format!("{}# touched by {by}{}", self.indent, self.eol),
        )]
    }

    /// The items in reverse order, each with the comments above it.
    fn reversed(&self) -> Edit {
        let items = &self.list.items;
        let whole = items[0].span.start..items[self.n() - 1].span.end;
        let texts: Vec<&str> = items
            .iter()
            .rev()
            .map(|i| &self.src[i.span.clone()])
            .collect();
        vec![(whole, texts.join(self.eol))]
    }
}

fn corpus_files() -> Vec<PathBuf> {
    data_files(&corpus().join("kustomize/files"))
}

/// The generated edit pairs for one list: (shape, current, other, want).
fn shapes(c: &Ctx<'_>) -> Vec<(&'static str, Edit, Edit, Want)> {
    let n = c.n();
    let both = |a: &[(Range<usize>, String)], b: &[(Range<usize>, String)]| {
        Want::Bytes(splice(
            c.src,
            a.iter().cloned().chain(b.iter().cloned()).collect(),
        ))
    };
    let mut out = Vec::new();
    let mut push = |shape, a: Edit, b: Edit, want: Want| out.push((shape, a, b, want));
    let append_c = c.insert_after(n - 1, "added-by-current.yaml");
    let append_o = c.insert_after(n - 1, "added-by-other.yaml");
    // Both append at the end: plain git's most common conflict. For lists
    // applied in order, the order of two additions at one place is a guess.
    let mut appended = append_c.clone();
    appended[0].1.push_str(&append_o[0].1);
    let want = match c.list.schema.order {
        Order::Set => Want::Bytes(splice(c.src, appended)),
        Order::Sequence => Want::Conflict,
    };
    push("both append", append_c.clone(), append_o.clone(), want);
    let same = c.insert_after(n - 1, "added-by-both.yaml");
    push(
        "both append the same item",
        same.clone(),
        same.clone(),
        both(&same, &[]),
    );
    if n >= 2 {
        let first = c.insert_after(0, "added-by-current.yaml");
        push(
            "add after the first vs append",
            first.clone(),
            append_o.clone(),
            both(&first, &append_o),
        );
        let gone = c.remove(0);
        push(
            "remove the first vs append",
            gone.clone(),
            append_o.clone(),
            both(&gone, &append_o),
        );
        let renamed = c.rename(0, "renamed-by-current.yaml");
        push(
            "rename the first vs append",
            renamed.clone(),
            append_o.clone(),
            both(&renamed, &append_o),
        );
        // Neighbouring lines: git's line merge stops on these.
        let second = c.rename(1, "renamed-by-other.yaml");
        // By identity a rename is a removal and an addition in its place:
        // in a list applied in order, two additions at one place.
        let want = match c.list.schema.order {
            Order::Set => both(&first, &second),
            Order::Sequence => Want::Conflict,
        };
        push(
            "add after the first vs rename the second",
            first.clone(),
            second.clone(),
            want,
        );
        push(
            "remove the first vs rename the second",
            gone.clone(),
            second.clone(),
            both(&gone, &second),
        );
        let (ra, rb) = (
            c.rename(0, "renamed-by-current.yaml"),
            c.rename(0, "renamed-by-other.yaml"),
        );
        push("rename one item two ways", ra, rb, Want::Conflict);
        let (ga, rb) = (c.remove(0), c.rename(0, "renamed-by-other.yaml"));
        push("remove vs rename one item", ga, rb, Want::Conflict);
        push(
            "both remove one item",
            gone.clone(),
            gone.clone(),
            both(&gone, &[]),
        );
        // The reversed list leads; the other side's addition follows its
        // predecessor, the old last item, now the first.
        let rev = c.reversed();
        let mut want = rev.clone();
        let last = &c.src[c.list.items[n - 1].span.clone()];
        want[0].1 = want[0]
            .1
            .replacen(last, &format!("{last}{}", append_o[0].1), 1);
        push(
            "reorder vs append",
            rev,
            append_o.clone(),
            Want::Bytes(splice(c.src, want)),
        );
    }
    if n >= 2 {
        let (ta, tb) = (c.touch(0, "current"), c.touch(n - 1, "other"));
        push(
            "change the first vs change the last",
            ta.clone(),
            tb.clone(),
            both(&ta, &tb),
        );
        push(
            "change one item two ways",
            ta,
            c.touch(0, "other"),
            Want::Conflict,
        );
    }
    if n >= 3 {
        let (ga, gb) = (c.remove(0), c.remove(n - 1));
        push(
            "remove the first vs remove the last",
            ga.clone(),
            gb.clone(),
            both(&ga, &gb),
        );
    }
    // Remote bases: re-pins of two bases merge, one base re-pinned two ways
    // conflicts.
    let pinned: Vec<usize> = (0..n)
        .filter(|&i| c.list.schema.pinned && !pin(c.list.items[i].value).1.is_empty())
        .collect();
    let repin = |i: usize, to: &str| {
        let v = c.list.items[i].value;
        let (_, p) = pin(v);
        c.rename(i, &v.replacen(p.as_ref(), &format!("ref={to}"), 1))
    };
    if let [i, .., j] = pinned[..] {
        let (a, b) = (repin(i, "v9.0.0"), repin(j, "v9.1.0"));
        push(
            "re-pin two remote bases",
            a.clone(),
            b.clone(),
            both(&a, &b),
        );
    }
    if let Some(&i) = pinned.first() {
        push(
            "re-pin one remote base two ways",
            repin(i, "v9.0.0"),
            repin(i, "v9.1.0"),
            Want::Conflict,
        );
        let (a, b) = (repin(i, "v9.0.0"), append_o.clone());
        push("re-pin vs append", a.clone(), b.clone(), both(&a, &b));
    }
    out
}

#[test]
fn list_edits_on_real_files_merge_by_item() {
    let sb = Sandbox::new();
    let opts = Options::default();
    let (mut lists, mut cases) = (0, 0);
    let mut kinds = BTreeMap::<&str, usize>::new();
    // shape -> (cases, kustomerge right, git merge-file right)
    let mut by_shape = BTreeMap::<&str, (usize, usize, usize)>::new();
    let mut failures = Vec::new();
    for file in corpus_files() {
        let bytes = std::fs::read(&file).unwrap();
        let Ok(src) = std::str::from_utf8(&bytes) else {
            continue;
        };
        // A file kustomize refuses is never merged structurally.
        if kustomerge::meaning::read(&bytes).is_err() {
            continue;
        }
        let Ok(located) = item_lists(src) else {
            continue;
        };
        for list in located.iter().filter_map(|(_, l)| l.as_ref()) {
            let ids: Vec<_> = list.items.iter().map(|i| &i.id).collect();
            if list.items.is_empty() || (1..ids.len()).any(|i| ids[..i].contains(&ids[i])) {
                continue;
            }
            lists += 1;
            *kinds.entry(list.schema.key).or_default() += 1;
            let ctx = Ctx {
                src,
                list,
                eol: if src[list.header.end..].starts_with("\r\n") {
                    "\r\n"
                } else {
                    "\n"
                },
                indent: " ".repeat(list.dash_col),
            };
            for (shape, a, b, want) in shapes(&ctx) {
                cases += 1;
                let (current, other) = (splice(src, a), splice(src, b));
                let out =
                    merge::merge(&bytes, current.as_bytes(), other.as_bytes(), &opts).unwrap();
                let (git, git_code) =
                    git_merge_file(&sb, [&bytes, current.as_bytes(), other.as_bytes()]);
                let right = |got: &[u8], conflicted: bool| match &want {
                    Want::Bytes(w) => !conflicted && got == w.as_bytes(),
                    Want::Conflict => conflicted,
                };
                let tally = by_shape.entry(shape).or_default();
                tally.0 += 1;
                tally.2 += usize::from(right(&git, git_code != 0));
                if right(&out.bytes, out.conflicts != 0) {
                    tally.1 += 1;
                } else {
                    failures.push(format!(
                        "{} `{}`: {shape}: conflicts={} fallback={:?}\n{}",
                        file.display(),
                        list.schema.key,
                        out.conflicts,
                        out.fallback,
                        String::from_utf8_lossy(&out.bytes)
                    ));
                }
            }
        }
    }
    eprintln!("{lists} lists ({kinds:?}), {cases} generated edit pairs");
    eprintln!("| edits | cases | kustomerge right | git merge-file right |");
    for (shape, (n, ours, git)) in &by_shape {
        eprintln!("| {shape} | {n} | {ours} | {git} |");
    }
    assert!(cases > 1000, "only {cases} generated cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A root kustomization listing one app, and three apps (a ConfigMap each).
fn root_with_apps(sb: &Sandbox) -> PathBuf {
    let repo = sb.repo("platform");
    for app in ["billing", "checkout", "search"] {
        sb.commit_file(
            &repo,
            &format!("apps/{app}/kustomization.yaml"),
            b"resources:\n- configmap.yaml\n",
            app,
        );
        let cm = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}\n");
        sb.commit_file(
            &repo,
            &format!("apps/{app}/configmap.yaml"),
            cm.as_bytes(),
            app,
        );
    }
    repo
}

const ROOT: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# one line per team's app
resources:
- apps/billing
";

/// Two teams each add an app to a root kustomization's `resources:`: plain
/// git stops (both appended at the end); with the driver, a rebase, a merge
/// and a cherry-pick complete, and `kubectl kustomize` builds all three apps.
#[test]
fn two_teams_adding_apps_to_a_root_kustomization_rebase_merge_and_cherry_pick_cleanly() {
    let sb = Sandbox::new();
    let repo = root_with_apps(&sb);
    let job = format!("{ROOT}- apps/search\n");
    let main = format!("{ROOT}- apps/checkout\n");
    let want = format!("{ROOT}- apps/checkout\n- apps/search\n");
    sb.commit_file(&repo, "kustomization.yaml", ROOT.as_bytes(), "root");
    sb.git(&repo, &["checkout", "-q", "-b", "job"]);
    sb.commit_file(&repo, "kustomization.yaml", job.as_bytes(), "add search");
    sb.git(&repo, &["checkout", "-q", "main"]);
    sb.commit_file(&repo, "kustomization.yaml", main.as_bytes(), "add checkout");
    let read = || std::fs::read_to_string(repo.join("kustomization.yaml")).unwrap();

    sb.git(&repo, &["checkout", "-q", "job"]);
    assert!(!sb.git_out(&repo, &["rebase", "main"]).status.success());
    sb.git(&repo, &["rebase", "--abort"]);

    sb.register_driver(&repo);
    sb.git(&repo, &["rebase", "-q", "main"]);
    assert_eq!(read(), want);
    sb.git(&repo, &["checkout", "-q", "main"]);
    sb.git(&repo, &["merge", "-q", "--no-edit", "job@{1}"]);
    assert_eq!(read(), want);
    sb.git(&repo, &["reset", "-q", "--hard", "HEAD~1"]);
    sb.git(&repo, &["cherry-pick", "job@{1}"]);
    assert_eq!(read(), want);

    let Some(yaml) = kubectl_build(&repo) else {
        return;
    };
    for app in ["billing", "checkout", "search"] {
        assert!(yaml.contains(&format!("name: {app}\n")), "{yaml}");
    }
}

const OVERLAY: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
patches:
- path: replicas.yaml
configMapGenerator:
- name: web-config
  literals:
  - LOG_LEVEL=info
";

/// Two teams edit one overlay's patches and one generator's literals at
/// once: with the driver the merge is clean, and `kubectl kustomize` builds
/// it with both patches applied and every literal in the ConfigMap.
#[test]
fn an_overlay_whose_patches_and_literals_both_sides_changed_builds_with_both() {
    let sb = Sandbox::new();
    let repo = sb.repo("overlay");
    let deployment = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: web
        image: web:1.0.0
";
    let patch = |name: &str, spec: &str| {
        let text =
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n{spec}");
        sb.commit_file(&repo, name, text.as_bytes(), name);
    };
    sb.commit_file(&repo, "deployment.yaml", deployment.as_bytes(), "base");
    patch("replicas.yaml", "  replicas: 3\n");
    patch("ready.yaml", "  minReadySeconds: 10\n");
    patch("history.yaml", "  revisionHistoryLimit: 4\n");
    sb.commit_file(&repo, "kustomization.yaml", OVERLAY.as_bytes(), "overlay");
    let job = OVERLAY
        .replace(
            "- path: replicas.yaml\n",
            "- path: replicas.yaml\n- path: ready.yaml\n",
        )
        .replace("  - LOG_LEVEL=info\n", "  - LOG_LEVEL=debug\n");
    let main = OVERLAY
        .replace(
            "- path: replicas.yaml\n",
            "- path: replicas.yaml\n- path: history.yaml\n",
        )
        .replace(
            "  - LOG_LEVEL=info\n",
            "  - LOG_LEVEL=info\n  - THEME=dark\n",
        );
    sb.git(&repo, &["checkout", "-q", "-b", "job"]);
    sb.commit_file(&repo, "kustomization.yaml", job.as_bytes(), "job");
    sb.git(&repo, &["checkout", "-q", "main"]);
    sb.commit_file(&repo, "kustomization.yaml", main.as_bytes(), "main");
    assert!(
        !sb.git_out(&repo, &["merge", "--no-edit", "job"])
            .status
            .success()
    );
    sb.git(&repo, &["merge", "--abort"]);
    // Patches apply in order: both added after replicas.yaml, so the order
    // of the two is a guess and stays a conflict; the literals merge by key.
    sb.register_driver(&repo);
    assert!(
        !sb.git_out(&repo, &["merge", "--no-edit", "job"])
            .status
            .success()
    );
    let got = std::fs::read_to_string(repo.join("kustomization.yaml")).unwrap();
    assert!(
        got.contains("  - LOG_LEVEL=debug\n  - THEME=dark\n"),
        "{got}"
    );
    assert_eq!(got.matches("<<<<<<< ").count(), 1, "{got}");
    sb.git(&repo, &["merge", "--abort"]);

    // Added at different places, the patches merge too.
    let main = main.replace(
        "- path: replicas.yaml\n- path: history.yaml\n",
        "- path: history.yaml\n- path: replicas.yaml\n",
    );
    sb.commit_file(
        &repo,
        "kustomization.yaml",
        main.as_bytes(),
        "main, history first",
    );
    sb.git(&repo, &["merge", "-q", "--no-edit", "job"]);
    let got = std::fs::read_to_string(repo.join("kustomization.yaml")).unwrap();
    assert_eq!(
        got,
        OVERLAY
            .replace(
                "- path: replicas.yaml\n",
                "- path: history.yaml\n- path: replicas.yaml\n- path: ready.yaml\n"
            )
            .replace(
                "  - LOG_LEVEL=info\n",
                "  - LOG_LEVEL=debug\n  - THEME=dark\n"
            )
    );
    let Some(yaml) = kubectl_build(&repo) else {
        return;
    };
    for want in [
        "replicas: 3",
        "minReadySeconds: 10",
        "revisionHistoryLimit: 4",
        "LOG_LEVEL: debug",
        "THEME: dark",
    ] {
        assert!(yaml.contains(want), "{want} missing from\n{yaml}");
    }
}
