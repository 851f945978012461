//! How the merge and `set-image` scale (issue 6): 10 to 10,000 images, and a
//! 50,000-line file whose body is not images.
//!
//! The merge cases are what a push race produces: each side bumps different
//! images (20, or fewer in a small file) and appends one. Only the lists
//! differ, so git is never spawned and the figures are kustomerge's own work;
//! `benches/vs-git.sh` times the whole binary against `git merge-file`.
//!
//! The `hostile` group times the inputs `tests/integration/hostile.rs` holds
//! to its other promises (a 10 MB file, a megabyte on one line, an alias
//! bomb): how long they take is measured here, not asserted there.
//!
//! Sample sizes are small so `cargo bench` ends in a few minutes on two cores.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};

use kustomerge::git::Git;
use kustomerge::kustomization::Document;
use kustomerge::kustomization::image_arg::parse_images;
use kustomerge::kustomization::schema::IMAGES;
use kustomerge::kustomization::setter;
use kustomerge::merge::{self, Markers, Options};

#[path = "../tests/integration/hostile_inputs.rs"]
mod hostile_inputs;
use kustomerge::version::SameImagePolicy;

const SIZES: [usize; 4] = [10, 100, 1_000, 10_000];
const BODY_LINES: usize = 50_000;

/// A kustomization with `images` entries and `body` resource lines; `tags`
/// overrides the tag of some entries and `extra` appends entries.
fn file(images: usize, body: usize, tags: &[(usize, &str)], extra: &[&str]) -> String {
    let mut s = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\nresources:\n",
    );
    for i in 0..body.max(1) {
        s.push_str(&format!("- manifests/service-{i:05}.yaml\n"));
    }
    s.push_str("images:\n");
    for i in 0..images {
        let tag = tags.iter().find(|(j, _)| *j == i).map_or_else(
            || format!("1.{}.{}", i / 100, i % 100),
            |(_, t)| (*t).to_owned(),
        );
        s.push_str(&format!("- name: registry.example.com/team/app-{i:05}\n  newName: ghcr.io/acme/app-{i:05}\n  newTag: {tag}\n"));
    }
    for name in extra {
        s.push_str(&format!("- name: {name}\n  newTag: 0.0.1\n"));
    }
    s
}

/// Each case: its name, the number of images and of body lines.
fn cases() -> impl Iterator<Item = (String, usize, usize)> {
    SIZES
        .iter()
        .map(|&n| (format!("{n}_images"), n, 1))
        .chain([(format!("{BODY_LINES}_line_body"), 10, BODY_LINES)])
}

/// Base, current and other: disjoint bumps spread over the list, and an
/// append on each side.
fn sides(images: usize, body: usize) -> [String; 3] {
    let bumps = 20.min(images / 2).max(1);
    let stride = images / (2 * bumps);
    let a: Vec<(usize, &str)> = (0..bumps).map(|k| (2 * k * stride, "9.0.0")).collect();
    let b: Vec<(usize, &str)> = (0..bumps)
        .map(|k| ((2 * k + 1) * stride, "8.0.0"))
        .collect();
    [
        file(images, body, &[], &[]),
        file(images, body, &a, &["new-from-current"]),
        file(images, body, &b, &["new-from-other"]),
    ]
}

fn options() -> Options {
    Options {
        policy: SameImagePolicy::Conflict,
        markers: Markers::default(),
        git: Git::new(),
        virtual_base: false,
        forced_fallback: None,
    }
}

/// Times one in-process merge of `[base, current, other]`.
fn time_merge(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    [o, a, b]: [&str; 3],
    opts: &Options,
) {
    group.throughput(Throughput::Bytes(a.len() as u64));
    group.bench_function(BenchmarkId::from_parameter(id), |bench| {
        bench.iter(|| {
            merge::merge(
                black_box(o.as_bytes()),
                black_box(a.as_bytes()),
                black_box(b.as_bytes()),
                opts,
            )
            .unwrap()
        });
    });
}

fn bench_merge(c: &mut Criterion) {
    let opts = options();
    let mut group = c.benchmark_group("merge");
    for (id, images, body) in cases() {
        let [o, a, b] = sides(images, body);
        let first = merge::merge(o.as_bytes(), a.as_bytes(), b.as_bytes(), &opts).unwrap();
        assert!(
            first.conflicts == 0 && first.fallback.is_none(),
            "{id}: the bench must time the clean structured path"
        );
        time_merge(&mut group, &id, [&o, &a, &b], &opts);
    }
    group.finish();
}

/// `set-image` on one entry in the middle and one new entry, from the bytes
/// to the checked result: what a pipeline's edit costs.
fn bench_set_image(c: &mut Criterion) {
    let mut group = c.benchmark_group("set_image");
    for (id, images, body) in cases() {
        let src = file(images, body, &[], &[]);
        let args = vec![
            format!("registry.example.com/team/app-{:05}:9.9.9", images / 2),
            "new-image:1.0.0".to_owned(),
        ];
        let reps: Vec<_> = parse_images(&args)
            .unwrap()
            .iter()
            .map(|a| a.replacement())
            .collect();
        let first = setter::apply(&Document::parse(&src).unwrap(), &IMAGES, &reps).unwrap();
        assert!(
            first.text.contains(":9.9.9") || first.text.contains("newTag: 9.9.9"),
            "{id}: the bump must land"
        );
        group.throughput(Throughput::Bytes(src.len() as u64));
        group.bench_function(BenchmarkId::from_parameter(&id), |bench| {
            bench.iter(|| {
                let doc = Document::parse(black_box(&src)).unwrap();
                setter::apply(&doc, &IMAGES, &reps).unwrap()
            });
        });
    }
    group.finish();
}

/// Three inputs whose sides bump `api` and `web` around a hostile `body`.
fn around(body: &str) -> [String; 3] {
    let file = |api: &str, web: &str| {
        format!("{body}images:\n- name: api\n  newTag: {api}\n- name: web\n  newTag: {web}\n")
    };
    [
        file("1.0.0", "2.0.0"),
        file("1.0.1", "2.0.0"),
        file("1.0.0", "2.0.1"),
    ]
}

/// The hostile suite's large and pathological inputs, whatever path they
/// take (the 1 MB flow list merges; an alias bomb outside the lists too).
fn hostile_cases() -> Vec<(&'static str, [String; 3])> {
    let flow = hostile_inputs::one_line_flow_list();
    vec![
        (
            "10_mb_literal",
            around(&hostile_inputs::big_literal_generator(10 << 20)),
        ),
        (
            "1_mb_flow_list_on_one_line",
            [
                flow.clone(),
                flow.replacen(
                    "{name: img-000100, newTag: 1.0.0}",
                    "{name: img-000100, newTag: 9.9.9}",
                    1,
                ),
                flow.replacen(
                    "{name: img-020000, newTag: 1.0.0}",
                    "{name: img-020000, newTag: 8.8.8}",
                    1,
                ),
            ],
        ),
        (
            "1_mb_line",
            around(&format!("description: {}\n", "x".repeat(1 << 20))),
        ),
        ("alias_bomb", around(&hostile_inputs::alias_bomb())),
    ]
}

fn bench_hostile(c: &mut Criterion) {
    let opts = options();
    let mut group = c.benchmark_group("hostile");
    for (id, [o, a, b]) in hostile_cases() {
        time_merge(&mut group, id, [&o, &a, &b], &opts);
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_merge, bench_set_image, bench_hostile
}
criterion_main!(benches);
