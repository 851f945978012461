//! Fuzzes `set-image` as a library: the first line holds up to four
//! arguments in kustomize's grammar, the rest is the kustomization.
//!
//! Oracles beyond "no panic": a result the setter returns parses, holds every
//! field an argument set (as the first entry of that name, the one kustomize
//! matches), and setting the same again changes nothing.

#![no_main]

use kustomerge::kustomization::image_arg::{ImageArg, KEEP, parse_images};
use kustomerge::kustomization::schema::IMAGES;
use kustomerge::kustomization::{Document, setter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (args, file) = text.split_once('\n').unwrap_or((text, ""));
    let args: Vec<String> = args
        .split(' ')
        .filter(|s| !s.is_empty())
        .take(4)
        .map(str::to_owned)
        .collect();
    let Ok(images) = parse_images(&args) else {
        return;
    };
    let Ok(doc) = Document::parse(file) else {
        return;
    };
    let reps: Vec<_> = images.iter().map(ImageArg::replacement).collect();
    let Ok(applied) = setter::apply(&doc, &IMAGES, &reps) else {
        return;
    };
    let after = Document::parse(&applied.text).expect("the setter's result parses");
    for img in &images {
        for (field, want) in [
            ("newName", &img.new_name),
            ("newTag", &img.new_tag),
            ("digest", &img.digest),
        ] {
            if !want.is_empty() && want != KEEP {
                let got = setter::current_value(&after, &IMAGES, &img.name, field);
                assert_eq!(got, Some(want.as_str()), "{field} of {}", img.name);
            }
        }
    }
    let again = setter::apply(&after, &IMAGES, &reps).expect("setting the same again works");
    assert_eq!(
        again.text, applied.text,
        "setting the same again changed the file"
    );
});
