//! The argument grammars of `kustomize edit set image` and `edit set replicas`.
//!
//! Argo CD, Kargo and countless CI scripts already hand these strings to
//! kustomize, so `set-image` must read them exactly as kustomize does,
//! oddities included (`a=b=c:1` sets `newName: b=c`, `localhost:5000` sets
//! tag `5000`, tags are not validated). The rules are transcribed from
//! `kustomize/commands/edit/set/setimage.go` and `setreplicas.go` and from
//! `api/internal/image/image.go` (`Split`, kustomize's `SplitImageName`).
//!
//! Parsing yields [`Replacement`]s: whole entries, as kustomize replaces them.

use std::fmt;

use super::setter::{Replacement, Value};

/// An argument kustomize would reject, with kustomize's own wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError(String);

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ArgError {}

/// The `*` placeholder: keep the file's current value of that field.
pub const KEEP: &str = "*";

/// One `set image` argument, with kustomize's string fields: empty means
/// "not set" and [`KEEP`] means "copy from the file".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageArg {
    /// The entry it replaces or adds (`name:`).
    pub name: String,
    /// `newName`.
    pub new_name: String,
    /// `newTag`.
    pub new_tag: String,
    /// `digest`.
    pub digest: String,
}

/// Splits an image reference into name, tag and digest like kustomize's
/// `image.Split`: not an OCI parser, so `host:port/` survives only because
/// the search starts at the first `/`, and nothing is validated.
pub fn split_image(image: &str) -> (&str, &str, &str) {
    let from = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let search = &image[from..];
    let at = search.find('@').map(|i| i + from);
    let colon = search.find(':').map(|i| i + from);
    match (colon, at) {
        (None, None) => (image, "", ""),
        (Some(c), Some(d)) if c < d => (&image[..c], &image[c + 1..d], &image[d + 1..]),
        (_, Some(d)) => (&image[..d], "", &image[d + 1..]),
        (Some(c), None) => (&image[..c], &image[c + 1..], ""),
    }
}

/// Parses one argument: `[name=]newName[:tag][@digest]`, where a missing
/// `name=` makes the reference's own name the entry's name.
pub fn parse_image(arg: &str) -> Result<ImageArg, ArgError> {
    let (key, value) = arg.split_once('=').unwrap_or(("", arg));
    let (name, tag, digest) = split_image(value);
    // kustomize's test for "nothing but a name" compares with the whole
    // argument, so `nginx=nginx` and `nginx:` pass while `nginx` does not.
    if name == arg {
        return Err(ArgError(format!(
            "invalid format of image `{arg}`, use one of the following options: \
             <image>=<newimage>:<newtag>, <image>=<newimage>@<digest>, \
             <image>=<newimage>:<newtag>@<digest>, <image>=<newimage>, <image>:<newtag>, \
             <image>:<newtag>@<digest>, <image>@<digest>"
        )));
    }
    let (name, new_name) = if key.is_empty() {
        (name, "")
    } else {
        (key, name)
    };
    Ok(ImageArg {
        name: name.to_owned(),
        new_name: new_name.to_owned(),
        new_tag: tag.to_owned(),
        digest: digest.to_owned(),
    })
}

/// Parses every argument. A later argument for the same name replaces an
/// earlier one, as in kustomize's map (it keeps the earlier one's position).
pub fn parse_images(args: &[String]) -> Result<Vec<ImageArg>, ArgError> {
    if args.is_empty() {
        return Err(ArgError("no image specified".to_owned()));
    }
    let mut out: Vec<ImageArg> = Vec::new();
    for arg in args {
        let image = parse_image(arg)?;
        match out.iter_mut().find(|i| i.name == image.name) {
            Some(slot) => *slot = image,
            None => out.push(image),
        }
    }
    Ok(out)
}

impl ImageArg {
    /// The entry kustomize writes for this argument. An empty part is not
    /// written, and `tagSuffix` never is: kustomize builds the entry from
    /// the argument alone, so a touched entry loses its suffix.
    pub fn replacement(&self) -> Replacement {
        let parts = [
            ("newName", &self.new_name),
            ("newTag", &self.new_tag),
            ("digest", &self.digest),
        ];
        Replacement {
            name: self.name.clone(),
            fields: parts
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| {
                    (
                        k,
                        if v == KEEP {
                            Value::Keep
                        } else {
                            Value::Str(v.clone())
                        },
                    )
                })
                .collect(),
        }
    }
}

/// The longest tag the OCI distribution spec allows (128 characters).
const MAX_TAG: usize = 128;

/// The tag rule, as messages quote it.
const TAG_RULE: &str = "a tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} (OCI distribution spec)";

/// Checks what `arg` would write against what kustomize's build and a
/// registry accept, which kustomize's own `edit set image` does not: it
/// writes `newTag: "1.0 extra"` or `digest: sha256:short` and only the
/// deploy fails. An explicitly empty tag (`api=ghcr.io/acme/api:`, from an
/// unset `$VERSION`) would delete the `newTag` line, and its Flux marker
/// with it; it is refused unless `allow_empty_tag`.
pub fn validate_image(arg: &str, allow_empty_tag: bool) -> Result<(), ArgError> {
    let fail = |what: String| Err(ArgError(format!("`{arg}`: {what}")));
    let (key, value) = arg.split_once('=').unwrap_or(("", arg));
    if arg.contains('=') && value.is_empty() {
        return fail(format!(
            "the image after `{key}=` is empty (an unset variable?); kustomize would strip the entry to its name"
        ));
    }
    let image = parse_image(arg)?;
    let (name, _, _) = split_image(value);
    let rest = &value[name.len()..];
    let explicit_tag = rest.starts_with(':');
    if explicit_tag && image.new_tag.is_empty() && !allow_empty_tag {
        return fail(
            "the tag after `:` is empty (an unset $VERSION?); kustomize would delete the newTag line. \
             Pass --allow-empty-tag to remove the tag on purpose"
                .to_owned(),
        );
    }
    if rest.contains('@') && image.digest.is_empty() {
        return fail("the digest after `@` is empty (an unset variable?)".to_owned());
    }
    for (field, reference) in [("name", &image.name), ("newName", &image.new_name)] {
        if !reference.is_empty()
            && reference != KEEP
            && let Err(why) = check_reference(reference)
        {
            return fail(format!(
                "{field} `{reference}` is not a valid image reference: {why}"
            ));
        }
    }
    let tag = image.new_tag.as_str();
    if !tag.is_empty() && tag != KEEP && !valid_tag(tag) {
        return fail(format!("tag `{tag}` is not valid: {TAG_RULE}"));
    }
    let digest = image.digest.as_str();
    if !digest.is_empty()
        && digest != KEEP
        && let Err(why) = check_digest(digest)
    {
        return fail(format!("digest `{digest}` is not valid: {why}"));
    }
    Ok(())
}

fn valid_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    tag.len() <= MAX_TAG
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// `algorithm:encoded` (OCI image spec, "Digests"), with the registered
/// algorithms' exact lengths: sha256 is 64 and sha512 128 lowercase hex digits.
fn check_digest(digest: &str) -> Result<(), String> {
    let Some((algorithm, encoded)) = digest.split_once(':') else {
        return Err("a digest is `algorithm:hex`, e.g. sha256:<64 hex digits>".to_owned());
    };
    let component = |c: &str| {
        !c.is_empty()
            && c.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if !algorithm.split(['+', '.', '_', '-']).all(component) {
        return Err(format!(
            "the algorithm `{algorithm}` is not [a-z0-9]+([+._-][a-z0-9]+)*"
        ));
    }
    let lower_hex = encoded
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let length = match algorithm {
        "sha256" => Some(64),
        "sha512" => Some(128),
        _ => None,
    };
    match length {
        Some(n) if encoded.len() != n || !lower_hex => Err(format!(
            "a {algorithm} digest is {n} lowercase hex digits, got {} character(s) `{encoded}`",
            encoded.len()
        )),
        None if encoded.is_empty()
            || !encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b)) =>
        {
            Err("the encoded part is [a-zA-Z0-9=_-]+".to_owned())
        }
        _ => Ok(()),
    }
}

/// An image name as the distribution reference grammar has it:
/// `[domain[:port]/]component(/component)*`, a component being lowercase
/// alphanumerics joined by `.`, `_`, `__` or dashes.
fn check_reference(name: &str) -> Result<(), String> {
    if name.len() > 255 {
        return Err("it is longer than 255 characters".to_owned());
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // The first part is a registry host when the reference parser would
    // take it as one (docker's normalisation): it has a dot or a port, is localhost, or has capitals.
    if parts.len() > 1
        && (parts[0].contains(['.', ':'])
            || parts[0] == "localhost"
            || parts[0].bytes().any(|b| b.is_ascii_uppercase()))
    {
        check_domain(parts.remove(0))?;
    }
    for part in parts {
        if !valid_component(part) {
            return Err(format!(
                "`{part}` is not a path component: lowercase letters and digits, joined by `.`, `_`, `__` or `-`"
            ));
        }
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), String> {
    let (host, port) = match domain.rsplit_once(':') {
        Some((h, _)) if !h.ends_with(']') && h.contains(':') => (domain, None),
        Some((h, p)) => (h, Some(p)),
        None => (domain, None),
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("the port `{port}` of `{domain}` is not a number"));
    }
    // An IPv6 address in brackets.
    if let Some(ip) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return if !ip.is_empty() && ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            Ok(())
        } else {
            Err(format!("`{host}` is not an IPv6 address"))
        };
    }
    let label = |l: &str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if host.split('.').all(label) {
        Ok(())
    } else {
        Err(format!("the registry host `{host}` is not a host name"))
    }
}

fn valid_component(part: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = part.as_bytes();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    // Between alphanumeric runs: one `.`, one or two `_`, or any dashes.
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &part[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-')) {
            return false;
        }
    }
    true
}

/// One `set replicas` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaArg {
    /// The resource name.
    pub name: String,
    /// The replica count.
    pub count: i64,
}

/// Parses `NAME=COUNT`. Exactly one `=`, and COUNT as Go's
/// `strconv.ParseInt(s, 10, 64)` reads it: an optional sign, decimal digits.
pub fn parse_replica(arg: &str) -> Result<ReplicaArg, ArgError> {
    let invalid = || {
        ArgError(format!(
            "invalid format of replica `{arg}`, use the following format: <name>=<count>"
        ))
    };
    let (name, count) = arg.split_once('=').ok_or_else(invalid)?;
    let digits = count.strip_prefix(['+', '-']).unwrap_or(count);
    if count.contains('=') || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    Ok(ReplicaArg {
        name: name.to_owned(),
        count: count.parse().map_err(|_| invalid())?,
    })
}

/// Checks a replica argument against what kustomize's build accepts: a
/// count below zero parses (Go's `ParseInt`) but no Deployment takes it.
pub fn validate_replica(arg: &str) -> Result<(), ArgError> {
    let replica = parse_replica(arg)?;
    if replica.name.is_empty() {
        return Err(ArgError(format!("`{arg}`: the name before `=` is empty")));
    }
    if replica.count < 0 {
        return Err(ArgError(format!(
            "`{arg}`: replica count {} is negative; a count is a non-negative integer",
            replica.count
        )));
    }
    Ok(())
}

/// Parses every argument; a later one for the same name wins.
pub fn parse_replicas(args: &[String]) -> Result<Vec<ReplicaArg>, ArgError> {
    if args.is_empty() {
        return Err(ArgError("no replicas specified".to_owned()));
    }
    let mut out: Vec<ReplicaArg> = Vec::new();
    for arg in args {
        let replica = parse_replica(arg)?;
        match out.iter_mut().find(|r| r.name == replica.name) {
            Some(slot) => *slot = replica,
            None => out.push(replica),
        }
    }
    Ok(out)
}

impl ReplicaArg {
    /// The entry kustomize writes for this argument.
    pub fn replacement(&self) -> Replacement {
        Replacement {
            name: self.name.clone(),
            fields: vec![("count", Value::Int(self.count))],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(arg: &str) -> Option<[String; 4]> {
        parse_image(arg)
            .ok()
            .map(|i| [i.name, i.new_name, i.new_tag, i.digest])
    }

    fn fields(f: [&str; 4]) -> Option<[String; 4]> {
        Some(f.map(str::to_owned))
    }

    #[test]
    fn split_follows_kustomize() {
        let cases = [
            ("nginx", ("nginx", "", "")),
            ("nginx:1.0", ("nginx", "1.0", "")),
            ("nginx@sha256:ab", ("nginx", "", "sha256:ab")),
            ("nginx:1.0@sha256:ab", ("nginx", "1.0", "sha256:ab")),
            ("localhost:5000/app:1.0", ("localhost:5000/app", "1.0", "")),
            ("localhost:5000/app", ("localhost:5000/app", "", "")),
            ("localhost:5000", ("localhost", "5000", "")),
            ("nginx:a/b", ("nginx:a/b", "", "")),
            ("/abs:1", ("/abs", "1", "")),
            ("a@b:c", ("a", "", "b:c")),
        ];
        for (input, want) in cases {
            assert_eq!(split_image(input), want, "{input}");
        }
    }

    #[test]
    fn image_grammar_matches_kustomize() {
        let d = "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3";
        let cases = [
            (
                "image1=my-image1:my-tag",
                fields(["image1", "my-image1", "my-tag", ""]),
            ),
            (
                &format!("image1=my-image1@{d}"),
                fields(["image1", "my-image1", "", d]),
            ),
            (
                &format!("image1=my-image1:t@{d}"),
                fields(["image1", "my-image1", "t", d]),
            ),
            ("image1:my-tag", fields(["image1", "", "my-tag", ""])),
            (&format!("image1@{d}"), fields(["image1", "", "", d])),
            (
                "ngnix=localhost:5000/p/ngnix",
                fields(["ngnix", "localhost:5000/p/ngnix", "", ""]),
            ),
            (
                "localhost:5000/app:1.0",
                fields(["localhost:5000/app", "", "1.0", ""]),
            ),
            ("image1=*:v1", fields(["image1", "*", "v1", ""])),
            (
                "image1=my-image1@*",
                fields(["image1", "my-image1", "", "*"]),
            ),
            ("nginx=:1.0", fields(["nginx", "", "1.0", ""])),
            ("nginx=", fields(["nginx", "", "", ""])),
            ("nginx=nginx", fields(["nginx", "nginx", "", ""])),
            ("=nginx:1.0", fields(["nginx", "", "1.0", ""])),
            ("nginx:", fields(["nginx", "", "", ""])),
            ("a=b=c:1", fields(["a", "b=c", "1", ""])),
            ("localhost:5000", fields(["localhost", "", "5000", ""])),
            ("nginx:v1+build", fields(["nginx", "", "v1+build", ""])),
            ("nginx", None),
            ("localhost:5000/app", None),
            ("nginx:a/b", None),
            ("", None),
        ];
        for (arg, want) in cases {
            assert_eq!(image(arg), want, "{arg}");
        }
    }

    #[test]
    fn image_errors_use_kustomize_wording() {
        assert_eq!(
            parse_images(&[]).unwrap_err().to_string(),
            "no image specified"
        );
        let err = parse_images(&["bad".into(), "args".into()]).unwrap_err();
        assert!(
            err.to_string().starts_with("invalid format of image `bad`"),
            "{err}"
        );
    }

    #[test]
    fn a_later_argument_for_the_same_name_wins_in_place() {
        let args = ["a:1", "b:1", "a:2"].map(String::from);
        let got = parse_images(&args).unwrap();
        let got: Vec<_> = got.iter().map(|i| (&*i.name, &*i.new_tag)).collect();
        assert_eq!(got, [("a", "2"), ("b", "1")]);
    }

    #[test]
    fn replica_grammar_matches_go_parse_int() {
        let ok = [("app=5", 5), ("app=+3", 3), ("app=-1", -1), ("a-b=007", 7)];
        for (arg, count) in ok {
            assert_eq!(parse_replica(arg).map(|r| r.count), Ok(count), "{arg}");
        }
        for arg in [
            "bad",
            "app=bad",
            "app=3.0",
            "a=b=3",
            "app=",
            "app=+",
            "app= 3",
            "app=99999999999999999999",
        ] {
            let err = parse_replica(arg).unwrap_err().to_string();
            assert!(err.starts_with("invalid format of replica"), "{arg}: {err}");
        }
        assert_eq!(
            parse_replicas(&[]).unwrap_err().to_string(),
            "no replicas specified"
        );
    }
}
