//! `kustomerge install` / `uninstall`: register the merge driver, and take it
//! away again ([`crate::setup`] does both), saying what changed and what is
//! left for the user to do.

use crate::cli::{InstallArgs, InstallScopeArgs};
use crate::driver::{KEY as DRIVER_KEY, NAME as DRIVER};
use crate::exit;
use crate::setup::{self, AttrFile, Uninstalled};

/// `kustomerge install`.
pub fn run(args: &InstallArgs) -> anyhow::Result<u8> {
    let opts = args.options();
    let scope = opts.scope;
    let installed = setup::install(&opts)?;
    let file = installed.file.display();
    if installed.done.is_empty() {
        eprintln!(
            "kustomerge install: already installed in the {} git config ({file}); nothing changed.",
            scope.name(),
        );
    } else {
        eprintln!("kustomerge install: {} git config ({file}):", scope.name());
        for line in &installed.done {
            eprintln!("  {line}");
        }
    }
    if !opts.absolute_path && setup::find_on_path("kustomerge").is_none() {
        eprintln!(
            "warning: `kustomerge` is not on PATH, so git can't run the driver and would leave \
             conflicts without markers; put it on PATH, or run install again with --absolute-path"
        );
    }
    match installed.attributes {
        None => eprintln!(
            "note: a repository uses the driver once its attributes select it: run \
             `kustomerge install --local` there, or add `kustomization.yaml merge={DRIVER}` \
             (and .yml, Kustomization) to its .gitattributes"
        ),
        Some(AttrFile::Committed) => eprintln!(
            "note: commit .gitattributes, so that other clones and CI select the driver too \
             (each of them still needs it registered: `kustomerge install`)"
        ),
        Some(AttrFile::Info) => {}
    }
    eprintln!("undo: kustomerge uninstall {}", scope.flag());
    Ok(exit::SUCCESS)
}

/// `kustomerge uninstall`.
pub fn uninstall(args: &InstallScopeArgs) -> anyhow::Result<u8> {
    let scope = args.scope();
    match setup::uninstall(scope)? {
        Uninstalled::NoRecord { driver_set } => {
            eprintln!(
                "kustomerge uninstall: no record of `kustomerge install` in the {} git config; \
                 nothing changed.",
                scope.name()
            );
            if driver_set {
                eprintln!(
                    "note: {DRIVER_KEY} is set there, but not by kustomerge install; remove it with \
                     `git config {} --remove-section {}`",
                    scope.flag(),
                    crate::driver::SECTION
                );
            }
        }
        Uninstalled::Undone {
            done,
            edited_committed,
        } => {
            eprintln!("kustomerge uninstall: {} git config:", scope.name());
            for line in &done {
                eprintln!("  {line}");
            }
            if let Some(path) = edited_committed {
                eprintln!(
                    "note: {} is tracked and was edited; commit the change: git commit -m 'Stop using kustomerge' -- {}",
                    path.display(),
                    path.display()
                );
            }
        }
    }
    Ok(exit::SUCCESS)
}
