//! The keyed lists kustomerge understands, and how their fields group into
//! facets that merge as one unit; the other lists, merged item by item, and
//! what identifies their items.

use std::borrow::Cow;

/// A keyed list: a top-level sequence of mappings whose identity is `name`.
#[derive(Debug)]
pub struct ListSchema {
    /// The top-level key.
    pub key: &'static str,
    /// Fields that change together. A field not listed here is a facet of its own.
    pub facets: &'static [&'static [&'static str]],
    /// The fields kustomize accepts in an entry (anything else is an error to kustomize).
    pub fields: &'static [&'static str],
    /// The fields kustomize decodes as integers; the others are strings.
    pub ints: &'static [&'static str],
}

/// `images:`. `newTag`, `digest` and `tagSuffix` are one version: merging them
/// field by field would pin the old image's digest under the new tag.
pub const IMAGES: ListSchema = ListSchema {
    key: "images",
    facets: &[&["newName"], &["newTag", "digest", "tagSuffix"]],
    fields: &["name", "newName", "newTag", "digest", "tagSuffix"],
    ints: &[],
};

/// `replicas:`.
pub const REPLICAS: ListSchema = ListSchema {
    key: "replicas",
    facets: &[&["count"]],
    fields: &["name", "count"],
    ints: &["count"],
};

/// Every keyed list, in the order kustomize writes them.
pub const LISTS: [&ListSchema; 2] = [&IMAGES, &REPLICAS];

impl ListSchema {
    /// The schema for a top-level key.
    pub fn for_key(key: &str) -> Option<&'static Self> {
        LISTS.into_iter().find(|s| s.key == key)
    }

    /// The field kustomize decodes `key` into, `Ok(None)` for one it doesn't
    /// know. Go's `encoding/json` matches names case-insensitively, so
    /// `NEWTAG` is `newTag`. Beyond ASCII its folding changed between Go
    /// releases (`ſ` folds to `s` in all, `ı` to `i` only since Go 1.21,
    /// the Kelvin sign to `k` only before), so a key that folds to a field
    /// only through those is `Err(field)`: it may or may not be that field.
    pub fn field(&self, key: &str) -> Result<Option<&'static str>, &'static str> {
        // Most keys are spelled as the field: exact first, it's cheaper.
        let exact = self.fields.iter().find(|f| **f == key);
        if let Some(f) = exact.or_else(|| self.fields.iter().find(|f| f.eq_ignore_ascii_case(key)))
        {
            return Ok(Some(f));
        }
        if key.is_ascii() {
            return Ok(None);
        }
        let folded: String = key
            .chars()
            .map(|c| match c {
                '\u{17f}' => 's',
                '\u{131}' => 'i',
                '\u{212a}' => 'k',
                c => c,
            })
            .collect();
        match self.fields.iter().find(|f| f.eq_ignore_ascii_case(&folded)) {
            Some(f) => Err(f),
            None => Ok(None),
        }
    }

    /// The field a misspelt key most likely means, for error hints.
    pub fn suggest(&self, key: &str) -> Option<&'static str> {
        let lower = key.to_ascii_lowercase();
        let guess = match lower.as_str() {
            "newdigest" | "sha" | "sha256" => "digest",
            "tag" | "newversion" | "version" => "newTag",
            "image" | "newimage" => "newName",
            "replicas" | "replicacount" => "count",
            _ => {
                return self
                    .fields
                    .iter()
                    .copied()
                    .find(|f| lower.contains(&f.to_ascii_lowercase()));
            }
        };
        self.fields.contains(&guess).then_some(guess)
    }

    /// Whether kustomize decodes `field` (as [`Self::field`] names it) as an integer.
    pub fn is_int(&self, field: &str) -> bool {
        self.ints.contains(&field)
    }

    /// The facet that `field` (as [`Self::field`] names it, or an unknown
    /// key) belongs to (`name` belongs to none).
    pub fn facet_of(&self, field: &str) -> Option<Facet> {
        self.facets
            .iter()
            .position(|f| f.contains(&field))
            .map(Facet::Declared)
            .or_else(|| (field != "name").then(|| Facet::Other(field.to_owned())))
    }
}

/// How the order of a list merged item by item counts to kustomize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Order doesn't change the build (`resources:` shows only under
    /// `sortOptions: fifo`): the union, in one side's order, with the other
    /// side's additions after their predecessor.
    Set,
    /// Applied in order (`components:`, `transformers:`): additions merge
    /// only where their place among the other side's is unambiguous.
    Sequence,
}

/// A top-level list (or map) merged item by item, by identity.
#[derive(Debug)]
pub struct ItemsSchema {
    /// The top-level key.
    pub key: &'static str,
    /// Whether order counts.
    pub order: Order,
    /// Whether an item may be a remote base pinned by `?ref=`/`?version=`:
    /// then its identity is the URL without the pin (see [`pin`]).
    pub pinned: bool,
    /// What an item is, and so what its identity is.
    pub shape: ItemShape,
}

/// What the items of an [`ItemsSchema`] list are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemShape {
    /// Strings (`resources:`): the string is the identity.
    Strings,
    /// Maps (`patches:`, `configMapGenerator:`), identified by these fields'
    /// values together (kustomize-semantics §10: kustomize itself keys none
    /// of these). A patch is its file, target and inline text: one file may
    /// patch two targets, and an inline patch edited is a new patch in the
    /// old one's place, never merged line by line inside.
    Entries(&'static [&'static str]),
    /// The pairs of a map of strings (`commonLabels:`): the key is the
    /// identity.
    Pairs,
    /// A top-level one-line scalar (`namespace:`): no items, the line is
    /// the value. Taken out of the text git merges, so that two sides
    /// changing neighbouring scalars don't conflict.
    Scalar,
    /// `KEY=value` strings (a generator's `literals:` and `files:`): the
    /// text before the first `=` is the identity, else a file's base name,
    /// the key kustomize gives it.
    Assignments,
}

const fn strings(key: &'static str, order: Order, pinned: bool) -> ItemsSchema {
    ItemsSchema {
        key,
        order,
        pinned,
        shape: ItemShape::Strings,
    }
}

const fn entries(key: &'static str, order: Order, fields: &'static [&'static str]) -> ItemsSchema {
    ItemsSchema {
        key,
        order,
        pinned: false,
        shape: ItemShape::Entries(fields),
    }
}

const fn keyed(key: &'static str, shape: ItemShape) -> ItemsSchema {
    ItemsSchema {
        key,
        order: Order::Set,
        pinned: false,
        shape,
    }
}

const fn pairs(key: &'static str) -> ItemsSchema {
    keyed(key, ItemShape::Pairs)
}

/// The lists inside one entry of a list of [`ItemShape::Entries`], merged
/// item by item when both sides changed the entry (kustomize-semantics
/// §10): a generator's `literals`, `files` and `envs`, a chart's
/// `valuesInline` (its first level) and a label entry's `pairs`.
const GENERATOR_LISTS: &[ItemsSchema] = &[
    keyed("literals", ItemShape::Assignments),
    keyed("files", ItemShape::Assignments),
    strings("envs", Order::Set, false),
];

const NESTED_LISTS: &[(&str, &[ItemsSchema])] = &[
    ("configMapGenerator", GENERATOR_LISTS),
    ("secretGenerator", GENERATOR_LISTS),
    ("helmCharts", &[pairs("valuesInline")]),
    ("labels", &[pairs("pairs")]),
];

/// Every list merged item by item, with its identity and order semantics
/// (kustomize-semantics §10). Patches, replacements and labels apply in
/// order; a generator or chart is identified as kustomize finds a repeated
/// one (`namespace`+`name`; `name`+`releaseName`).
pub const ITEM_LISTS: [ItemsSchema; 22] = [
    strings("resources", Order::Set, true),
    strings("bases", Order::Set, true),
    strings("components", Order::Sequence, true),
    strings("crds", Order::Set, false),
    strings("configurations", Order::Set, false),
    strings("generators", Order::Set, false),
    strings("transformers", Order::Sequence, false),
    strings("validators", Order::Set, false),
    strings("buildMetadata", Order::Set, false),
    strings("patchesStrategicMerge", Order::Sequence, false),
    entries(
        "patches",
        Order::Sequence,
        &["path", "target", "patch", "options"],
    ),
    entries(
        "patchesJson6902",
        Order::Sequence,
        &["path", "target", "patch"],
    ),
    entries(
        "replacements",
        Order::Sequence,
        &["path", "source", "targets"],
    ),
    entries("configMapGenerator", Order::Set, &["namespace", "name"]),
    entries("secretGenerator", Order::Set, &["namespace", "name"]),
    entries("helmCharts", Order::Set, &["name", "releaseName"]),
    entries(
        "labels",
        Order::Sequence,
        &["includeSelectors", "includeTemplates", "fields"],
    ),
    pairs("commonLabels"),
    pairs("commonAnnotations"),
    keyed("namespace", ItemShape::Scalar),
    keyed("namePrefix", ItemShape::Scalar),
    keyed("nameSuffix", ItemShape::Scalar),
];

impl ItemsSchema {
    /// The schema for a top-level key.
    pub fn for_key(key: &str) -> Option<&'static Self> {
        ITEM_LISTS.iter().find(|s| s.key == key)
    }

    /// The lists inside this list's entries that merge item by item.
    pub fn nested(&self) -> &'static [Self] {
        NESTED_LISTS
            .iter()
            .find(|(k, _)| *k == self.key)
            .map_or(&[], |(_, lists)| lists)
    }

    /// A string item's identity and its pin: a remote base's URL without
    /// its `ref=`/`version=` query parameters, and those parameters (empty
    /// when unpinned or when the list holds no remote bases). Two sides
    /// that pin one base to different refs change one item, exactly as two
    /// tags of one image do.
    pub fn identity<'s>(&self, item: &'s str) -> (Cow<'s, str>, Cow<'s, str>) {
        if self.pinned {
            pin(item)
        } else if self.shape == ItemShape::Assignments {
            let key = match item.split_once('=') {
                Some((key, _)) => key,
                None => item.rsplit('/').next().unwrap_or(item),
            };
            (Cow::Borrowed(key), Cow::Borrowed(""))
        } else {
            (Cow::Borrowed(item), Cow::Borrowed(""))
        }
    }

    /// An entry's identity from its fields' values (`value(field)`, each as
    /// its text), for [`ItemShape::Entries`]. The merge and the check call
    /// this with values they read their own way.
    pub fn entry_identity<'v>(&self, value: impl Fn(&str) -> Option<Cow<'v, str>>) -> String {
        let ItemShape::Entries(fields) = self.shape else {
            return String::new();
        };
        fields
            .iter()
            .map(|f| format!("{f}={}", value(f).unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Splits a remote target (`https://github.com/org/repo//path?ref=v1.2.3`,
/// `github.com/org/repo/path?ref=<sha>&timeout=90s`, `...?version=v1`) into
/// the target without its pin and the pin (`ref=v1.2.3`); other query
/// parameters stay in the target, in their order.
pub fn pin(item: &str) -> (Cow<'_, str>, Cow<'_, str>) {
    let Some((target, query)) = item.split_once('?') else {
        return (Cow::Borrowed(item), Cow::Borrowed(""));
    };
    let is_pin = |p: &&str| p.starts_with("ref=") || p.starts_with("version=");
    let (pins, rest): (Vec<&str>, Vec<&str>) = query.split('&').partition(is_pin);
    if pins.is_empty() {
        return (Cow::Borrowed(item), Cow::Borrowed(""));
    }
    let target = if rest.is_empty() {
        Cow::Borrowed(target)
    } else {
        Cow::Owned(format!("{target}?{}", rest.join("&")))
    };
    (target, Cow::Owned(pins.join("&")))
}

/// The version a pin names (`v1.2.3` from `ref=v1.2.3`), when it is one pin.
pub fn pinned_version(pin: &str) -> Option<&str> {
    let (_, v) = pin.split_once('=')?;
    (!v.contains('&')).then_some(v)
}

/// A group of fields that merges as one unit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Facet {
    /// The i-th entry of [`ListSchema::facets`].
    Declared(usize),
    /// A field kustomize doesn't know, merged on its own.
    Other(String),
}

#[cfg(test)]
mod tests {
    use super::{IMAGES, ItemsSchema, REPLICAS, pin};

    #[test]
    fn keys_fold_to_fields_as_go_json_matches_them() {
        assert_eq!(IMAGES.field("NEWTAG"), Ok(Some("newTag")));
        assert_eq!(IMAGES.field("Digest"), Ok(Some("digest")));
        assert_eq!(IMAGES.field("newtag"), Ok(Some("newTag")));
        assert_eq!(REPLICAS.field("Count"), Ok(Some("count")));
        assert_eq!(IMAGES.field("newDigest"), Ok(None));
        assert_eq!(IMAGES.field("digeſt"), Err("digest"));
        assert_eq!(IMAGES.field("tagSuffıx"), Err("tagSuffix"));
        assert_eq!(IMAGES.field("nämе"), Ok(None));
    }

    #[test]
    fn a_remote_base_is_its_url_without_the_pin() {
        let split = |s| {
            let (a, b) = pin(s);
            (a.into_owned(), b.into_owned())
        };
        assert_eq!(
            split("https://github.com/org/repo//deploy?ref=v1.2.3"),
            (
                "https://github.com/org/repo//deploy".into(),
                "ref=v1.2.3".into()
            )
        );
        assert_eq!(
            split("github.com/org/repo/app?timeout=90s&ref=abc123"),
            (
                "github.com/org/repo/app?timeout=90s".into(),
                "ref=abc123".into()
            )
        );
        assert_eq!(
            split("git@github.com:org/repo.git/app?version=v2"),
            (
                "git@github.com:org/repo.git/app".into(),
                "version=v2".into()
            )
        );
        assert_eq!(split("../base"), ("../base".into(), "".into()));
        assert_eq!(
            split("x?submodules=false"),
            ("x?submodules=false".into(), "".into())
        );
        let crds = ItemsSchema::for_key("crds").unwrap();
        assert_eq!(crds.identity("a?ref=1").0, "a?ref=1");
    }
}
