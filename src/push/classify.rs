//! Why a push failed: lost a race or hit a transient fault (retry), or
//! refused for good (stop).
//!
//! git reports both through the same exit status, so the only signal is the
//! text, and every host words it differently (the patterns below name the
//! hosts they come from). Two mistakes are expensive: retrying a
//! protected-branch or authentication refusal burns the whole time budget
//! and hides the real message, and failing on a lost race is the flaky job
//! `push` exists to remove. So the text is matched first, and refusals win
//! over race signals when both appear (a hook that declines an update also
//! makes git print "failed to update ref"-like noise).
//!
//! The text is then confirmed by re-reading the remote ref ([`decide`]): a
//! message we don't recognise still counts as a lost race when the branch
//! really moved, which covers hosts whose wording isn't listed here.
//!
//! Matching is on lower-cased substrings: the `git push` client phrases are
//! stable across versions, and `push` runs git with `LC_ALL=C` so they are
//! not translated; server messages arrive as `remote: ...` lines verbatim.

/// What a push failure's text says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The branch moved under us: fetch, integrate and push again.
    LostRace(&'static str),
    /// The server (or a hook, or the credentials) refuses this push; retrying
    /// can't help.
    Refused(&'static str),
    /// The network or the server failed on the way (a reset connection, a
    /// timeout, an HTTP 5xx): the same push may well go through next time.
    Transient(&'static str),
    /// Nothing recognised.
    Unknown,
}

/// Phrases that mean "never retry", with the reason shown to the user.
/// Checked before [`RACE`].
const REFUSED: &[(&str, &str)] = &[
    // GitHub GH006, GitLab, Gitea: direct pushes are blocked.
    ("protected branch", "protected branch"),
    ("tf402455", "branch policy (Azure DevOps)"),
    ("not allowed to push", "push not allowed"),
    // GitHub: the token lacks the `workflow` scope.
    ("refusing to allow", "token scope"),
    // Bitbucket Server's committer check.
    ("can only push your own commits", "committer check"),
    // pre-receive, update and protected-branch hooks.
    ("hook declined", "hook declined"),
    ("authentication failed", "authentication failed"),
    ("invalid username or password", "authentication failed"),
    ("access denied", "access denied"),
    ("permission denied", "permission denied"),
    (
        "the requested url returned error: 401",
        "authentication failed",
    ),
    ("the requested url returned error: 403", "access denied"),
    // GitHub over SSH: "ERROR: Permission to org/repo.git denied to ...".
    ("denied to ", "access denied"),
    ("repository not found", "repository not found"),
    ("shallow update not allowed", "shallow update not allowed"),
];

/// Phrases that mean "the branch moved under us".
const RACE: &[(&str, &str)] = &[
    // The client's own check against the ref it was just told about.
    ("(fetch first)", "fetch first"),
    ("(non-fast-forward)", "non-fast-forward"),
    ("(stale info)", "stale info"),
    // The server's compare-and-swap on the ref (GitHub, plain receive-pack).
    ("cannot lock ref", "cannot lock ref"),
    ("failed to update ref", "failed to update ref"),
    // GitLab (Gitaly).
    ("incorrect old value provided", "incorrect old value"),
    // go-git servers and the GitHub contents API.
    ("non-fastforwardable", "non-fast-forward"),
    ("not a fast forward", "non-fast-forward"),
    ("non-fast-forward", "non-fast-forward"),
];

/// Phrases of a failure on the way rather than a decision: retried within
/// the budget. Checked after [`REFUSED`], so "Could not read from remote
/// repository" after an authentication failure is still a refusal; alone
/// (ssh could not connect, the server went away) it is transient.
const TRANSIENT: &[(&str, &str)] = &[
    ("connection reset", "connection reset"),
    ("connection refused", "connection refused"),
    ("timed out", "timed out"),
    ("the requested url returned error: 5", "HTTP 5xx"),
    ("rpc failed", "RPC failed"),
    ("early eof", "early EOF"),
    ("the remote end hung up", "the remote hung up"),
    ("unexpected disconnect", "the remote hung up"),
    ("could not resolve host", "could not resolve host"),
    (
        "temporary failure in name resolution",
        "could not resolve host",
    ),
    ("gnutls", "TLS error"),
    ("ssl_error", "TLS error"),
    ("broken pipe", "broken pipe"),
    (
        "could not read from remote repository",
        "could not reach the remote",
    ),
];

/// Classifies the combined stdout and stderr of a failed `git push`.
pub fn classify(text: &str) -> Verdict {
    let lower = text.to_ascii_lowercase();
    let find = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(needle, _)| lower.contains(needle))
            .map(|&(_, reason)| reason)
    };
    if let Some(reason) = find(REFUSED) {
        Verdict::Refused(reason)
    } else if let Some(reason) = find(RACE) {
        Verdict::LostRace(reason)
    } else if let Some(reason) = find(TRANSIENT) {
        Verdict::Transient(reason)
    } else {
        Verdict::Unknown
    }
}

/// What to do about a failed push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Fetch, integrate and push again (after a backoff).
    Retry,
    /// Stop: report the server's message and exit `REJECTED`.
    Reject,
}

/// Combines the text's verdict with a fresh read of the remote ref.
///
/// `moved` is whether the branch now points elsewhere than the tip we built
/// on (`None` when it couldn't be read). A recognised race is retried even
/// when the ref is back where it was: "cannot lock ref" also means another
/// push held the lock and then failed. An unrecognised failure is retried
/// only when the ref really moved; otherwise retrying would change nothing.
pub fn decide(verdict: Verdict, moved: Option<bool>) -> Decision {
    match (verdict, moved) {
        (Verdict::Refused(_), _) => Decision::Reject,
        (Verdict::LostRace(_) | Verdict::Transient(_), _) | (Verdict::Unknown, Some(true)) => {
            Decision::Retry
        }
        (Verdict::Unknown, _) => Decision::Reject,
    }
}

/// The lines worth showing when a push is refused: the server's own
/// (`remote: ...`), git's `error:`/`fatal:` lines and the ref status, without
/// git's generic hints about pulling first.
pub fn server_message(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with("remote:")
                || t.starts_with("error:")
                || t.starts_with("fatal:")
                || t.starts_with("ERROR:")
                || t.starts_with('!')
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real texts, as git prints them (the hosts' from their documentation
    // and issue trackers; the local ones captured from git 2.47 against a
    // bare repo).

    const FETCH_FIRST: &str = "To /tmp/pr/b.git
 ! [rejected]        HEAD -> main (fetch first)
error: failed to push some refs to '/tmp/pr/b.git'
hint: Updates were rejected because the remote contains work that you do not
hint: have locally. This is usually caused by another repository pushing to
hint: the same ref. If you want to integrate the remote changes, use
hint: 'git pull' before pushing again.";

    const PORCELAIN_FETCH_FIRST: &str = "To /tmp/pr/b.git
!\tHEAD:refs/heads/main\t[rejected] (fetch first)
Done
error: failed to push some refs to '/tmp/pr/b.git'";

    const NON_FAST_FORWARD: &str = "To https://github.com/GregLawson/Open-Table-Explorer.git
 ! [rejected]            passed -> passed (non-fast-forward)
error: failed to push some refs to 'https://github.com/GregLawson/Open-Table-Explorer.git'
hint: Updates were rejected because the tip of your current branch is behind
hint: its remote counterpart. Integrate the remote changes (e.g.
hint: 'git pull ...') before pushing again.";

    const STALE_INFO: &str = "To github.com:org/deploy.git
 ! [rejected]        main -> main (stale info)
error: failed to push some refs to 'github.com:org/deploy.git'";

    const GITHUB_CANNOT_LOCK: &str = "To https://github.com/slsa-framework/example-package.git
 ! [remote rejected]   main -> main (cannot lock ref 'refs/heads/main': is at 66941e6196d60ec8a5f14cc3cd5764037bad4e82 but expected cdec69331ca3b4565378c23c6f917d5f89426a3a)
error: failed to push some refs to 'https://github.com/slsa-framework/example-package.git'";

    const LOCAL_FAILED_TO_UPDATE: &str = "remote: error: cannot lock ref 'refs/heads/main': is at 1f0c2a9e7d5b3c4a6e8f0a1b2c3d4e5f6a7b8c9d but expected 9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c
To /tmp/race/bare.git
!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)
Done";

    const GITLAB_OLD_VALUE: &str = "To gitlab.com:group/deploy.git
 ! [remote rejected] main -> main (incorrect old value provided)
error: failed to push some refs to 'gitlab.com:group/deploy.git'";

    const GITHUB_PROTECTED: &str =
        "remote: error: GH006: Protected branch update failed for refs/heads/main.
remote: error: Changes must be made through a pull request.
To https://github.com/SageMathOER-CCC/sage-discrete-math.git
 ! [remote rejected] main -> main (protected branch hook declined)
error: failed to push some refs to 'https://github.com/SageMathOER-CCC/sage-discrete-math.git'";

    const GITHUB_WORKFLOW_SCOPE: &str = "To https://github.com/GERSL/pycold.git
 ! [remote rejected] main -> main (refusing to allow a Personal Access Token to create or update workflow `.github/workflows/main.yml` without `workflow` scope)
error: failed to push some refs to 'https://github.com/GERSL/pycold.git'";

    const GITLAB_PROTECTED: &str =
        "remote: GitLab: You are not allowed to push code to protected branches on this project.
To gitlab.com:group/deploy.git
 ! [remote rejected] main -> main (pre-receive hook declined)
error: failed to push some refs to 'gitlab.com:group/deploy.git'";

    const AZURE_POLICY: &str = "remote: TF402455: Pushes to this branch are not permitted; you must use a pull request to update this branch.
To https://dev.azure.com/org/project/_git/deploy
 ! [remote rejected] main -> main (TF402455: Pushes to this branch are not permitted; you must use a pull request to update this branch.)
error: failed to push some refs to 'https://dev.azure.com/org/project/_git/deploy'";

    const BITBUCKET_COMMITTER: &str = "remote: Push rejected.
remote: refs/heads/main: 4f2a9c1e: You can only push your own commits in this repository
To https://bitbucket.example.com/scm/ops/deploy.git
 ! [remote rejected] main -> main (pre-receive hook declined)";

    const GITEA_PROTECTED: &str = "remote: error: Not allowed to push to protected branch main
To https://gitea.example.com/ops/deploy.git
 ! [remote rejected] main -> main (pre-receive hook declined)";

    const LOCAL_HOOK: &str = "remote: rejected by policy: no pushes on Fridays
To /tmp/pr/b.git
!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)
Done
error: failed to push some refs to '/tmp/pr/b.git'";

    const HTTPS_AUTH: &str = "remote: Invalid username or password.
fatal: Authentication failed for 'https://github.com/org/deploy.git/'";

    const HTTPS_403: &str = "remote: Permission to org/deploy.git denied to ci-bot.
fatal: unable to access 'https://github.com/org/deploy.git/': The requested URL returned error: 403";

    const SSH_DEPLOY_KEY: &str = "ERROR: Permission to org/deploy.git denied to deploy key
fatal: Could not read from remote repository.

Please make sure you have the correct access rights
and the repository exists.";

    const GITLAB_HTTP_BASIC: &str = "remote: HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password.
fatal: Authentication failed for 'https://gitlab.com/group/deploy.git/'";

    const GITLAB_NOT_MEMBER: &str = "remote: You are not allowed to push code to this project.
fatal: unable to access 'https://gitlab.com/group/deploy.git/': The requested URL returned error: 403";

    const SHALLOW: &str = "To https://gitlab.com/zitzhen/CoCo-Community.git
 ! [remote rejected] main -> main (shallow update not allowed)
error: failed to push some refs to 'https://gitlab.com/zitzhen/CoCo-Community.git'";

    #[test]
    fn lost_races_are_recognised() {
        for (text, reason) in [
            (FETCH_FIRST, "fetch first"),
            (PORCELAIN_FETCH_FIRST, "fetch first"),
            (NON_FAST_FORWARD, "non-fast-forward"),
            (STALE_INFO, "stale info"),
            (GITHUB_CANNOT_LOCK, "cannot lock ref"),
            (LOCAL_FAILED_TO_UPDATE, "cannot lock ref"),
            (GITLAB_OLD_VALUE, "incorrect old value"),
            ("error: Update is not a fast forward", "non-fast-forward"),
            ("non-fastforwardable reference", "non-fast-forward"),
        ] {
            assert_eq!(classify(text), Verdict::LostRace(reason), "{text}");
        }
    }

    #[test]
    fn refusals_are_recognised_and_win_over_race_noise() {
        for (text, reason) in [
            (GITHUB_PROTECTED, "protected branch"),
            (GITHUB_WORKFLOW_SCOPE, "token scope"),
            (GITLAB_PROTECTED, "protected branch"),
            (AZURE_POLICY, "branch policy (Azure DevOps)"),
            (BITBUCKET_COMMITTER, "committer check"),
            (GITEA_PROTECTED, "protected branch"),
            (LOCAL_HOOK, "hook declined"),
            (HTTPS_AUTH, "authentication failed"),
            (HTTPS_403, "access denied"),
            (SSH_DEPLOY_KEY, "access denied"),
            (SSH_NO_KEY, "permission denied"),
            (GITLAB_HTTP_BASIC, "authentication failed"),
            (GITLAB_NOT_MEMBER, "push not allowed"),
            (SHALLOW, "shallow update not allowed"),
        ] {
            assert_eq!(classify(text), Verdict::Refused(reason), "{text}");
        }
        // A hook that declines one ref while git also reports a lock failure.
        let mixed = format!("{LOCAL_FAILED_TO_UPDATE}\n{LOCAL_HOOK}");
        assert_eq!(classify(&mixed), Verdict::Refused("hook declined"));
    }

    // Captured from git 2.47 through an `ext::` remote whose ssh stand-in
    // reset the connection (the integration tests use the same).
    const SSH_RESET: &str = "ssh: connect to host git.example.com port 22: Connection reset by peer
fatal: Could not read from remote repository.

Please make sure you have the correct access rights
and the repository exists.";

    const SSH_NO_KEY: &str = "git@github.com: Permission denied (publickey).
fatal: Could not read from remote repository.

Please make sure you have the correct access rights
and the repository exists.";

    #[test]
    fn transient_faults_are_recognised_and_lose_to_refusals() {
        for (text, reason) in [
            (SSH_RESET, "connection reset"),
            (
                "error: RPC failed; HTTP 500 curl 22 The requested URL returned error: 500",
                "HTTP 5xx",
            ),
            (
                "fatal: unable to access 'https://h/r.git/': The requested URL returned error: 502",
                "HTTP 5xx",
            ),
            (
                "fatal: unable to access 'https://h/r.git/': Failed to connect to h port 443: Connection refused",
                "connection refused",
            ),
            (
                "fatal: unable to access 'https://h/r.git/': Operation timed out after 300000 milliseconds",
                "timed out",
            ),
            (
                "error: RPC failed; curl 18 transfer closed\nfatal: early EOF",
                "RPC failed",
            ),
            ("fatal: early EOF", "early EOF"),
            (
                "fatal: the remote end hung up unexpectedly",
                "the remote hung up",
            ),
            (
                "fatal: Could not read from remote repository.",
                "could not reach the remote",
            ),
        ] {
            assert_eq!(classify(text), Verdict::Transient(reason), "{text}");
            assert_eq!(decide(classify(text), None), Decision::Retry, "{text}");
        }
        // Authentication next to a hang-up is still authentication.
        let both = format!("{HTTPS_AUTH}\nfatal: the remote end hung up unexpectedly");
        assert_eq!(classify(&both), Verdict::Refused("authentication failed"));
    }

    #[test]
    fn unknown_texts_stay_unknown() {
        assert_eq!(classify("error: something new"), Verdict::Unknown);
        assert_eq!(classify(""), Verdict::Unknown);
    }

    #[test]
    fn the_remote_ref_confirms_or_overrides_the_text() {
        let race = Verdict::LostRace("fetch first");
        let refused = Verdict::Refused("hook declined");
        assert_eq!(decide(race, Some(true)), Decision::Retry);
        assert_eq!(decide(race, Some(false)), Decision::Retry);
        assert_eq!(decide(refused, Some(true)), Decision::Reject);
        assert_eq!(decide(Verdict::Unknown, Some(true)), Decision::Retry);
        assert_eq!(decide(Verdict::Unknown, Some(false)), Decision::Reject);
        assert_eq!(decide(Verdict::Unknown, None), Decision::Reject);
    }

    #[test]
    fn server_message_keeps_the_servers_words_and_drops_hints() {
        let msg = server_message(GITHUB_PROTECTED);
        assert!(msg.contains("GH006: Protected branch update failed"));
        assert!(msg.contains("(protected branch hook declined)"));
        assert!(!server_message(FETCH_FIRST).contains("hint:"));
    }
}
