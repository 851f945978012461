//! The hostile suite's largest and most pathological inputs, shared with
//! `benches/merge.rs` (which includes this file), so that the bench times
//! exactly what `hostile.rs` checks.

/// Nine levels of nine aliases: 387 million leaves if anything expanded them.
pub fn alias_bomb() -> String {
    let mut s = String::from("lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*l{}", i - 1); 9].join(", ");
        s.push_str(&format!("lol{i}: &l{i} [{refs}]\n"));
    }
    s
}

/// A `configMapGenerator:` whose one literal is a block of about `size` bytes.
pub fn big_literal_generator(size: usize) -> String {
    let mut s = String::with_capacity(size + 1024);
    s.push_str("configMapGenerator:\n- name: big\n  literals:\n  - |\n");
    let mut i = 0;
    while s.len() < size {
        s.push_str(&format!(
            "    line {i:09}: the quick brown fox jumps over the lazy dog\n"
        ));
        i += 1;
    }
    s
}

/// 28,000 images in one flow list on one line, about 1 MB.
pub fn one_line_flow_list() -> String {
    let entries: Vec<String> = (0..28_000)
        .map(|i| format!("{{name: img-{i:06}, newTag: 1.0.{}}}", i % 100))
        .collect();
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages: [{}]\n",
        entries.join(", ")
    )
}
