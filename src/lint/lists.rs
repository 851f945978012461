//! Rules on the kustomization's other lists: what kustomize would load,
//! generate or apply twice. An item listed twice in `resources:` (or in
//! `generators:`, `transformers:`, `validators:`) is refused ("may not add
//! resource with an already registered id"), and so is one remote base
//! pinned to two refs; so are a ConfigMap or Secret generated twice without
//! `behavior: merge`/`replace` and a key repeated in one generator. A
//! component or a patch listed twice is applied twice.
//!
//! They read the file through the independent reader's tree
//! ([`meaning::nodes`]), which sees a list however it is written (flow,
//! quoted, anchored) as kustomize does. The fix of a repeated item comes
//! from the span model of the lists ([`item_lists`]), which covers the one
//! layout where deleting a line deletes exactly one item.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::Report;
use crate::kustomization::items::item_lists;
use crate::kustomization::line_start;
use crate::kustomization::schema::ItemsSchema;
use crate::kustomization::setter::line_removal;
use crate::meaning::{self, Kind, Node, Value};

/// What kustomize does with an item listed twice.
#[derive(Clone, Copy)]
enum Repeat {
    /// Loads it twice, and refuses the resources (or plugin configs) it
    /// already has.
    Refused,
    /// Applies it twice.
    AppliedTwice,
    /// Reads it twice, to no effect.
    Redundant,
}

/// The lists of strings checked for repeats. `resources` and `bases` are
/// one pool: kustomize loads `bases:` as resources.
const REPEATS: [(&str, Repeat); 8] = [
    ("resources", Repeat::Refused),
    ("bases", Repeat::Refused),
    ("generators", Repeat::Refused),
    ("transformers", Repeat::Refused),
    ("validators", Repeat::Refused),
    ("components", Repeat::AppliedTwice),
    ("crds", Repeat::Redundant),
    ("configurations", Repeat::Redundant),
];

/// The generator lists, and the kind each generates.
const GENERATORS: [(&str, &str); 2] = [
    ("configMapGenerator", "ConfigMap"),
    ("secretGenerator", "Secret"),
];

/// Runs the rules on `src` (already known to be one YAML mapping). A file
/// the reader refuses is left to the other rules, which say why.
pub(super) fn lists(file: &str, src: &str, report: &mut Report) {
    let Ok(fields) = meaning::nodes(src) else {
        return;
    };
    let mut items = Items::default();
    for (key, node) in &fields {
        let is = |name: &str| key.eq_ignore_ascii_case(name);
        if let Some((name, repeat)) = REPEATS.iter().find(|(name, _)| is(name)) {
            items.check(file, src, name, *repeat, node, report);
        } else if let Some((name, kind)) = GENERATORS.iter().find(|(name, _)| is(name)) {
            generators(file, name, kind, node, report);
        } else if is("patches") {
            patches(file, node, report);
        }
    }
}

/// The items of the lists of strings seen so far, by pool and identity.
#[derive(Default)]
struct Items<'a> {
    seen: HashMap<(&'static str, String), Seen<'a>>,
    /// The modelled items' lines, once a fix needs them.
    lines: Option<ItemLines>,
}

/// Where an item was first listed.
struct Seen<'a> {
    list: &'static str,
    text: &'a str,
    pin: String,
    line: u32,
}

impl<'a> Items<'a> {
    fn check(
        &mut self,
        file: &str,
        src: &'a str,
        list: &'static str,
        repeat: Repeat,
        node: &'a Node<'a>,
        report: &mut Report,
    ) {
        let Kind::Seq(nodes) = &node.kind else { return };
        let schema = ItemsSchema::for_key(list).expect("every list checked for repeats is one");
        let pool = if list == "bases" { "resources" } else { list };
        for item in nodes {
            let Some(text) = string(item) else { continue };
            let (id, pin) = schema.identity(text);
            let key = (pool, id.into_owned());
            let Some(first) = self.seen.get(&key) else {
                let line = item.line;
                let pin = pin.into_owned();
                self.seen.insert(
                    key,
                    Seen {
                        list,
                        text,
                        pin,
                        line,
                    },
                );
                continue;
            };
            if first.pin != pin {
                let pinned = |p: &str| {
                    if p.is_empty() {
                        "unpinned".to_owned()
                    } else {
                        format!("pinned to `{p}`")
                    }
                };
                report.problem(
                    file,
                    at(item),
                    "remote-pinned-twice",
                    format!(
                        "`{}` is {} here and {} at line {}; kustomize loads both versions and refuses the resources they share (\"may not add resource with an already registered id\")",
                        key.1,
                        pinned(&pin),
                        pinned(&first.pin),
                        first.line
                    ),
                    "keep one version of the base: delete one of the two lines".to_owned(),
                );
                continue;
            }
            let (message, fix) = if first.list != list {
                (
                    format!(
                        "`{text}` is already listed under `{}:` at line {}; kustomize loads `bases:` as resources and refuses to load it twice (\"may not add resource with an already registered id\")",
                        first.list, first.line
                    ),
                    "delete one of the two (`bases:` is deprecated: keep the one in `resources:`)",
                )
            } else {
                let what = match repeat {
                    Repeat::Refused => {
                        "kustomize refuses to load it twice (\"may not add resource with an already registered id\")"
                    }
                    Repeat::AppliedTwice => {
                        "kustomize applies a component once per listing, so twice (a JSON patch that appends appends twice; a resource it adds collides)"
                    }
                    Repeat::Redundant => "kustomize reads it twice, to no effect",
                };
                (
                    format!("`{text}` is already listed at line {}; {what}", first.line),
                    "delete this line",
                )
            };
            report.problem(file, at(item), "duplicate-item", message, fix.to_owned());
            if first.list == list
                && first.text == text
                && let Some(range) = item_line(
                    src,
                    self.lines.get_or_insert_with(|| item_lines(src)),
                    list,
                    item.line,
                )
            {
                report.fixable(range, String::new());
            }
        }
    }
}

/// The lines of the items of the lists the span model covers (block lists
/// of one-line items, where a line is exactly one item), by number: each
/// one's list, start and end (without its line break).
type ItemLines = HashMap<u32, (&'static str, usize, usize)>;

fn item_lines(src: &str) -> ItemLines {
    let lists = item_lists(src).unwrap_or_default();
    let mut out = HashMap::new();
    // Lists and items come in source order: lines are counted on the way.
    let (mut counted, mut line) = (0, 1);
    for (key, list) in &lists {
        for item in list.iter().flat_map(|l| &l.items) {
            let start = line_start(src, item.span.end);
            line += src[counted..start].matches('\n').count() as u32;
            counted = start;
            out.insert(line, (*key, start, item.span.end));
        }
    }
    out
}

/// The bytes to delete to remove the item on `line` of `list`, when that
/// line is exactly the item: the line and its line break.
fn item_line(
    src: &str,
    lines: &ItemLines,
    list: &str,
    line: u32,
) -> Option<std::ops::Range<usize>> {
    let &(key, start, end) = lines.get(&line)?;
    (key == list).then(|| line_removal(src, start, end))
}

/// A string scalar's text.
fn string<'n>(node: &'n Node<'_>) -> Option<&'n str> {
    match &node.kind {
        Kind::Scalar(Value::Str(s)) => Some(s),
        _ => None,
    }
}

/// A mapping's field, its name matched as Go's JSON decoder matches it.
fn get<'n, 'a>(node: &'n Node<'a>, field: &str) -> Option<&'n Node<'a>> {
    let Kind::Map(pairs) = &node.kind else {
        return None;
    };
    pairs
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(field))
        .map(|(_, value)| value)
}

fn seq<'n, 'a>(node: Option<&'n Node<'a>>) -> &'n [Node<'a>] {
    match node.map(|n| &n.kind) {
        Some(Kind::Seq(items)) => items,
        _ => &[],
    }
}

/// `configMapGenerator:` or `secretGenerator:`: an object generated twice
/// without `behavior: merge`/`replace` (kustomize: "behavior must be merge
/// or replace"), and a data key set twice in one entry (kustomize: "illegally
/// repeats the key"), whether by `literals` (`key=value`) or by `files`
/// (`key=path`, or the file's name).
fn generators(file: &str, list: &str, kind: &str, node: &Node<'_>, report: &mut Report) {
    let mut ids = HashMap::new();
    for entry in seq(Some(node)) {
        let Some(name_node) = get(entry, "name") else {
            continue;
        };
        let Some(name) = string(name_node) else {
            continue;
        };
        let namespace = get(entry, "namespace").and_then(string).unwrap_or("");
        let behavior = get(entry, "behavior").and_then(string).unwrap_or("");
        let shown = if namespace.is_empty() {
            format!("`{name}`")
        } else {
            format!("`{namespace}/{name}`")
        };
        // Recorded whatever the behavior: a later plain entry collides with a merged one too.
        if let Some(first) = first_line(&mut ids, (namespace, name), name_node)
            && !matches!(behavior, "merge" | "replace")
        {
            report.problem(
                file,
                at(name_node),
                "duplicate-generator",
                format!(
                    "the {kind} {shown} is already generated at line {first} of `{list}:`; kustomize refuses a second one without `behavior: merge` or `behavior: replace`"
                ),
                "merge the two entries into one, or add `behavior: merge` to this one".to_owned(),
            );
        }
        let mut keys = HashMap::new();
        // The data key of a literal or a file, as the merge keys them too.
        let sources = |field: &str| {
            let schema = ItemsSchema::for_key(list)
                .and_then(|g| g.nested().iter().find(|s| s.key == field))
                .expect("generators' literals and files are keyed lists");
            seq(get(entry, field))
                .iter()
                .filter_map(move |n| Some((n, schema.identity(string(n)?).0)))
        };
        let literals =
            sources("literals").filter(|(n, _)| string(n).is_some_and(|s| s.contains('=')));
        for (item, key) in literals.chain(sources("files")) {
            if let Some(first) = first_line(&mut keys, key.clone(), item) {
                report.problem(
                    file,
                    at(item),
                    "duplicate-generator-key",
                    format!(
                        "the key `{key}` of the {kind} {shown} is already set at line {first}; kustomize refuses a key twice in one {kind} (\"illegally repeats the key\")"
                    ),
                    "keep one of the two".to_owned(),
                );
            }
        }
    }
}

/// Where a `patches:` entry's patch comes from.
#[derive(PartialEq, Eq, Hash)]
enum Patch<'a> {
    /// A patch file.
    Path(&'a str),
    /// An inline patch.
    Inline(&'a str),
}

/// `patches:`: the same patch on the same target listed twice, which
/// kustomize applies twice. One file applied to several targets is common
/// (and fine).
fn patches(file: &str, node: &Node<'_>, report: &mut Report) {
    let mut seen = HashMap::new();
    for entry in seq(Some(node)) {
        let source = if let Some(path) = get(entry, "path").and_then(string) {
            Patch::Path(path)
        } else if let Some(inline) = get(entry, "patch").and_then(string) {
            Patch::Inline(inline)
        } else {
            continue;
        };
        let patch = (get(entry, "target").map(|t| t.clone().into_value()), source);
        if let Some(first) = first_line(&mut seen, patch, entry) {
            report.problem(
                file,
                at(entry),
                "duplicate-patch",
                format!(
                    "this patch is already listed for the same target at line {first}; kustomize applies it twice (a JSON patch that adds to a list adds twice)"
                ),
                "delete one of the two".to_owned(),
            );
        }
    }
}

/// The line `key` was first seen on, when it was; else records `node`'s.
fn first_line<K: Eq + std::hash::Hash>(
    seen: &mut HashMap<K, u32>,
    key: K,
    node: &Node<'_>,
) -> Option<u32> {
    match seen.entry(key) {
        Entry::Occupied(first) => Some(*first.get()),
        Entry::Vacant(slot) => {
            slot.insert(node.line);
            None
        }
    }
}

/// Where a node starts, as a problem's position.
fn at(node: &Node<'_>) -> (usize, usize) {
    (node.line as usize, node.column as usize)
}

#[cfg(test)]
mod tests {
    use super::super::fix_bytes;
    use super::super::tests::codes;

    #[test]
    fn an_item_is_its_identity_across_resources_and_bases() {
        let src = "resources:\n- ../base\n- https://github.com/a/b//app?ref=v1\nbases:\n- ../base\n- https://github.com/a/b//app?ref=v1\n- https://github.com/a/b//app?ref=v2\ncomponents:\n- ../base\n";
        assert_eq!(
            codes(src),
            [
                (5, 3, "duplicate-item"),
                (6, 3, "duplicate-item"),
                (7, 3, "remote-pinned-twice"),
            ]
        );
    }

    #[test]
    fn only_a_repeat_in_one_block_list_is_deleted_by_fix() {
        let src = "resources:\n- a.yaml\n# keep\n- a.yaml\nbases:\n- a.yaml\ncrds: [c.json, c.json]\nconfigurations:\n- c.yaml\n- c.yaml";
        let (text, fixed, left) = fix_bytes("k.yaml", src.as_bytes());
        assert_eq!(
            text.as_deref(),
            Some(
                "resources:\n- a.yaml\n# keep\nbases:\n- a.yaml\ncrds: [c.json, c.json]\nconfigurations:\n- c.yaml"
            )
        );
        assert_eq!(fixed.len(), 2);
        let left: Vec<_> = left.problems.iter().map(|p| (p.line, p.code)).collect();
        assert_eq!(left, [(5, "duplicate-item"), (6, "duplicate-item")]);
    }

    #[test]
    fn generators_and_patches_repeat_by_what_kustomize_keys_them_on() {
        let src = "configMapGenerator:\n- name: a\n  literals: [k=1, k=2, 'j=1']\n  files: [dir/j, k=x]\n- name: a\n  namespace: other\n- name: a\n  behavior: merge\n- name: a\nsecretGenerator:\n- name: a\npatches:\n- path: p.yaml\n- {path: p.yaml}\n- path: p.yaml\n  target: {kind: A}\n- target: {kind: A}\n  patch: x\n- target: {kind: B}\n  patch: x\n- patch: x\n  target: {kind: A}\n";
        assert_eq!(
            codes(src),
            [
                (3, 19, "duplicate-generator-key"),
                (4, 11, "duplicate-generator-key"),
                (4, 18, "duplicate-generator-key"),
                (9, 9, "duplicate-generator"),
                (14, 3, "duplicate-patch"),
                (21, 3, "duplicate-patch"),
            ]
        );
    }
}
