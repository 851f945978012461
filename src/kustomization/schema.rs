//! The keyed lists kustomerge understands, and how their fields group into
//! facets that merge as one unit.

/// A keyed list: a top-level sequence of mappings whose identity is `name`.
#[derive(Debug)]
pub struct ListSchema {
    /// The top-level key.
    pub key: &'static str,
    /// Fields that change together. A field not listed here is a facet of its own.
    pub facets: &'static [&'static [&'static str]],
    /// The fields kustomize accepts in an entry (anything else is an error to kustomize).
    pub fields: &'static [&'static str],
}

/// `images:`. `newTag`, `digest` and `tagSuffix` are one version: merging them
/// field by field would pin the old image's digest under the new tag.
pub const IMAGES: ListSchema = ListSchema {
    key: "images",
    facets: &[&["newName"], &["newTag", "digest", "tagSuffix"]],
    fields: &["name", "newName", "newTag", "digest", "tagSuffix"],
};

/// `replicas:`.
pub const REPLICAS: ListSchema = ListSchema {
    key: "replicas",
    facets: &[&["count"]],
    fields: &["name", "count"],
};

/// Every keyed list, in the order kustomize writes them.
pub const LISTS: [&ListSchema; 2] = [&IMAGES, &REPLICAS];

impl ListSchema {
    /// The schema for a top-level key.
    pub fn for_key(key: &str) -> Option<&'static Self> {
        LISTS.into_iter().find(|s| s.key == key)
    }

    /// The facet that `field` belongs to (`name` belongs to none).
    pub fn facet_of(&self, field: &str) -> Option<Facet> {
        self.facets
            .iter()
            .position(|f| f.contains(&field))
            .map(Facet::Declared)
            .or_else(|| (field != "name").then(|| Facet::Other(field.to_owned())))
    }
}

/// A group of fields that merges as one unit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Facet {
    /// The i-th entry of [`ListSchema::facets`].
    Declared(usize),
    /// A field kustomize doesn't know, merged on its own.
    Other(String),
}
