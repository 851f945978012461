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
    use super::{IMAGES, REPLICAS};

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
}
