//! `install.sh --version`: a release laid out by `ci/package.sh` (what the
//! release workflow publishes), served on 127.0.0.1 by `python3 -m
//! http.server`, installed into a fresh HOME. The checksum is checked
//! before anything is installed, and a platform without a binary builds
//! from source (here a stand-in `cargo` records how it was asked).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::common::{Sandbox, bin, hermetic, stderr};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// The name `install.sh` asks for on this machine.
fn this_target() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-musl",
        ("linux", "aarch64") => "aarch64-unknown-linux-musl",
        ("macos", "x86_64") => "x86_64-apple-darwin",
        ("macos", "aarch64") => "aarch64-apple-darwin",
        other => panic!("no release target for {other:?}"),
    }
}

/// Lays out release `VERSION` under `root` with `ci/package.sh`.
fn release(root: &Path) -> PathBuf {
    let out = Command::new("sh")
        .arg(repo_file("ci/package.sh"))
        .args([VERSION, this_target()])
        .arg(bin())
        .arg(root.join(format!("v{VERSION}")))
        .output()
        .unwrap();
    assert!(out.status.success(), "package.sh: {}", stderr(&out));
    root.join(format!(
        "v{VERSION}/kustomerge-{VERSION}-{}.tar.gz",
        this_target()
    ))
}

/// `python3 -m http.server` on 127.0.0.1, on a port the OS picks.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn serve(dir: &Path) -> Self {
        let mut child = Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                "0",
                "--directory",
            ])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 is needed to serve the test release");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let port = line
            .split(" port ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("unexpected http.server banner {line:?}"));
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `install.sh ARGS` with the sandbox's fresh HOME and global config.
/// `install.sh --version VERSION --base-url URL --prefix PREFIX`.
fn install_into(sb: &Sandbox, version: &str, url: &str, prefix: &Path) -> Output {
    let prefix = prefix.to_str().unwrap();
    let args = ["--version", version, "--base-url", url, "--prefix", prefix];
    install_sh(sb, &args, None)
}

fn install_sh(sb: &Sandbox, args: &[&str], path_prepend: Option<&Path>) -> Output {
    let mut cmd = Command::new("sh");
    hermetic(&mut cmd, &sb.home());
    if let Some(dir) = path_prepend {
        let mut paths = vec![dir.to_path_buf()];
        paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
        cmd.env("PATH", std::env::join_paths(paths).unwrap());
    }
    cmd.arg(repo_file("install.sh"))
        .args(args)
        .current_dir(sb.path())
        .output()
        .unwrap()
}

fn driver_registered(sb: &Sandbox) -> bool {
    sb.git_out(sb.path(), &["config", "--global", "merge.kustomize.driver"])
        .status
        .success()
}

#[test]
fn installs_a_release_binary_after_checking_its_sha256() {
    let sb = Sandbox::new();
    release(&sb.path().join("releases"));
    let server = Server::serve(&sb.path().join("releases"));
    let prefix = sb.path().join("prefix");
    let out = install_into(&sb, VERSION, &server.url, &prefix);
    assert!(out.status.success(), "{}", stderr(&out));
    let installed = prefix.join("bin/kustomerge");
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(bin()).unwrap()
    );
    let v = Command::new(&installed).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        format!("kustomerge {VERSION}")
    );
    let driver = sb.git(sb.path(), &["config", "--global", "merge.kustomize.driver"]);
    assert!(
        driver.starts_with(&format!("{} merge", installed.display())),
        "{driver}"
    );
    assert!(stderr(&out).contains("undo:"), "{}", stderr(&out));

    // Without --prefix it goes to ~/.local/bin; file:// works as a base
    // URL; --no-git-config leaves git alone.
    let sb2 = Sandbox::new();
    let base = format!("file://{}", sb.path().join("releases").display());
    let out = install_sh(
        &sb2,
        &[
            "--version",
            &format!("v{VERSION}"),
            "--base-url",
            &base,
            "--no-git-config",
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(sb2.home().join(".local/bin/kustomerge").is_file());
    assert!(!driver_registered(&sb2));
}

#[test]
fn a_checksum_mismatch_is_refused_and_installs_nothing() {
    let sb = Sandbox::new();
    let asset = release(&sb.path().join("releases"));
    // One byte more than the published sum covers: a corrupted or replaced download.
    let mut bytes = std::fs::read(&asset).unwrap();
    bytes.push(0);
    std::fs::write(&asset, bytes).unwrap();
    let server = Server::serve(&sb.path().join("releases"));
    let prefix = sb.path().join("prefix");
    let out = install_into(&sb, VERSION, &server.url, &prefix);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("checksum mismatch") && err.contains("nothing installed"),
        "{err}"
    );
    assert!(!prefix.join("bin/kustomerge").exists());
    assert!(
        !prefix.join("bin").exists() || std::fs::read_dir(prefix.join("bin")).unwrap().count() == 0
    );
    assert!(!driver_registered(&sb));

    // A version that was never released (no SHA256SUMS) is refused too,
    // rather than installed unverified.
    let out = install_into(&sb, "9.9.9", &server.url, &prefix);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("SHA256SUMS"), "{}", stderr(&out));
    assert!(!prefix.join("bin/kustomerge").exists());
}

#[test]
fn a_platform_without_a_binary_builds_that_version_from_source() {
    let sb = Sandbox::new();
    release(&sb.path().join("releases"));
    let server = Server::serve(&sb.path().join("releases"));
    // A stand-in cargo: records its arguments and installs the test binary
    // where `--root` says, as `cargo install` would.
    let fake = sb.path().join("fake-cargo");
    std::fs::create_dir_all(&fake).unwrap();
    let log = sb.path().join("cargo-args");
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = --version ] && {{ echo 'cargo 1.89.0'; exit 0; }}\necho \"$@\" >> '{log}'\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\nmkdir -p \"$root/bin\" && cp '{bin}' \"$root/bin/kustomerge\"\n",
        log = log.display(),
        bin = bin().display()
    );
    std::fs::write(fake.join("cargo"), script).unwrap();
    let mut mode = std::fs::metadata(fake.join("cargo")).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o755);
    std::fs::set_permissions(fake.join("cargo"), mode).unwrap();
    let out = install_sh(
        &sb,
        &[
            "--version",
            VERSION,
            "--base-url",
            &server.url,
            "--target",
            "riscv64gc-unknown-linux-gnu",
        ],
        Some(&fake),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("has no binary for"),
        "{}",
        stderr(&out)
    );
    let root = sb.home().join(".local");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap().trim(),
        format!(
            "install --locked --version ={VERSION} kustomerge --root {}",
            root.display()
        )
    );
    assert!(root.join("bin/kustomerge").is_file());
    assert!(driver_registered(&sb));
}
