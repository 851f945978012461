#!/usr/bin/env python3
"""Runs action.yml's composite steps and the GitLab template's job scripts
for real, against a release laid out by ci/package.sh (file://) and a bare
repository on disk, in a fresh HOME; and checks the YAML structure of
.github/workflows/release.yml, action.yml, ci/gitlab/kustomerge.yml and
.pre-commit-hooks.yaml. GitHub's and GitLab's runners can't run here, so
`uses:` steps (actions/cache) are skipped and `${{ }}` expressions are
substituted for the few forms these files use.

    ci/test-ci-templates.py BINARY      (needs PyYAML, git, bash)
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.abspath(sys.argv[1])
VERSION = re.search(r'^version = "(.*)"', open(os.path.join(ROOT, "Cargo.toml")).read(), re.M)[1]
TARGET = {"x86_64": "x86_64-unknown-linux-musl", "aarch64": "aarch64-unknown-linux-musl"}[os.uname().machine]


def load(path):
    with open(os.path.join(ROOT, path)) as f:
        return yaml.safe_load(f)


def fail(msg):
    print(f"test-ci-templates: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def run(cmd, env, cwd, ok=True, **kw):
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, **kw)
    if ok and p.returncode != 0:
        fail(f"{cmd!r} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def structure():
    wf = load(".github/workflows/release.yml")
    on = wf.get(True) or wf.get("on")  # YAML 1.1 reads `on` as true
    check(on["push"]["tags"] == ["v[0-9]+.[0-9]+.[0-9]+*"], "release.yml: tag trigger")
    check(wf["permissions"] == {"contents": "read"}, "release.yml: read-only by default")
    targets = {m["target"] for m in wf["jobs"]["build"]["strategy"]["matrix"]["include"]}
    check(targets == {"x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl",
                      "x86_64-apple-darwin", "aarch64-apple-darwin"}, f"release.yml targets {targets}")
    steps = wf["jobs"]["build"]["steps"] + wf["jobs"]["publish"]["steps"]
    builds = [s["run"] for s in steps if "cargo" in s.get("run", "") and " build" in s.get("run", "")]
    check(builds and all("--locked" in b for b in builds), "release.yml: every build is --locked")
    check(any("sha256sum --strict -c SHA256SUMS" in s.get("run", "") for s in steps), "release.yml: sums checked")
    check(wf["jobs"]["publish"]["permissions"] == {"contents": "write"}, "release.yml: publish writes")
    action = load("action.yml")
    for doc, where in ((wf, "release.yml"), (action, "action.yml")):
        for s in (doc.get("runs", {}).get("steps") or steps):
            if "uses" in s:
                check(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", s["uses"]), f"{where}: {s['uses']} is not pinned by SHA")
    check(action["runs"]["using"] == "composite", "action.yml: composite")
    check(action["inputs"]["version"]["required"] is True, "action.yml: version required")
    for name, out in action["outputs"].items():
        ref = re.fullmatch(r"\$\{\{ steps\.(\w+)\.outputs\.(\w+) \}\}", out["value"])
        check(ref and any(s.get("id") == ref[1] for s in action["runs"]["steps"]), f"action.yml: output {name}")
    used = set(re.findall(r"inputs\.([\w-]+)", open(os.path.join(ROOT, "action.yml")).read()))
    check(used <= set(action["inputs"]), f"action.yml: undeclared inputs {used - set(action['inputs'])}")
    check(all(s.get("shell") for s in action["runs"]["steps"] if "run" in s), "action.yml: run steps need shell")
    gl = load("ci/gitlab/kustomerge.yml")
    check(set(gl) == {".kustomerge"}, "gitlab: one hidden job")
    hooks = load(".pre-commit-hooks.yaml")
    check([h["id"] for h in hooks] == ["kustomerge-check"], "pre-commit hook id")
    check(all({"id", "name", "entry", "language", "files"} <= set(h) for h in hooks), "pre-commit hook keys")
    check(re.search(hooks[0]["files"], "overlays/prod/kustomization.yaml")
          and not re.search(hooks[0]["files"], "deploy.yaml"), "pre-commit files pattern")


def setup(tmp):
    """A fresh HOME, a local release and a bare repo with a clone."""
    home = os.path.join(tmp, "home")
    os.makedirs(home)
    env = {
        "PATH": os.environ["PATH"], "HOME": home, "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.path.join(home, ".gitconfig"),
        "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.com",
        "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.com",
    }
    rel = os.path.join(tmp, "releases")
    run(["sh", os.path.join(ROOT, "ci/package.sh"), VERSION, TARGET, BINARY, f"{rel}/v{VERSION}"], env, tmp)
    run(["cp", os.path.join(ROOT, "install.sh"), f"{rel}/v{VERSION}/install.sh"], env, tmp)
    bare = os.path.join(tmp, "config.git")
    run(["git", "init", "-q", "--bare", "-b", "main", bare], env, tmp)
    seed = os.path.join(tmp, "seed")
    run(["git", "clone", "-q", bare, seed], env, tmp)
    os.makedirs(f"{seed}/prod")
    with open(f"{seed}/prod/kustomization.yaml", "w") as f:
        f.write('images:\n- name: api\n  newTag: "1.0"\nreplicas:\n- name: api\n  count: 2\n')
    with open(f"{seed}/.gitattributes", "w") as f:
        f.write("kustomization.yaml merge=kustomize\n")
    run(["git", "add", "-A"], env, seed)
    run(["git", "commit", "-qm", "seed"], env, seed)
    run(["git", "push", "-q", "origin", "HEAD:main"], env, seed)
    return env, rel, bare


def expr(text, ctx):
    def sub(m):
        e = m[1].strip()
        if e not in ctx:
            fail(f"unknown expression {e!r}")
        return ctx[e]
    return re.sub(r"\$\{\{(.*?)\}\}", sub, text)


def condition(cond, ctx):
    """The `if:` forms action.yml uses: `a != ''`, `a == 'x'`, joined by ||."""
    def one(c):
        m = re.fullmatch(r"\s*([\w.-]+) (==|!=) '(.*)'\s*", c)
        if not m:
            fail(f"unsupported if: {cond!r}")
        v = ctx[m[1]]
        return (v == m[3]) if m[2] == "==" else (v != m[3])
    return any(one(c) for c in cond.split("||"))


def github_action(tmp):
    env, rel, bare = setup(tmp)
    work = os.path.join(tmp, "work")
    run(["git", "clone", "-q", bare, work], env, tmp)
    # Another pipeline lands first: push must integrate, not fail.
    other = os.path.join(tmp, "other")
    run(["git", "clone", "-q", bare, other], env, tmp)
    run([BINARY, "set-replicas", "-f", "prod", "--commit", "api=5"], env, other)
    run(["git", "push", "-q", "origin", "HEAD:main"], env, other)

    action = load("action.yml")
    inputs = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    inputs.update({"version": VERSION, "base-url": f"file://{rel}", "working-directory": work,
                   "file": "prod", "set-image": "api:1.1 web=registry.example.com/web:2.0", "push": "true",
                   "push-args": "--budget 60"})
    tool_cache = os.path.join(tmp, "toolcache")
    gh_path, gh_out = os.path.join(tmp, "GITHUB_PATH"), os.path.join(tmp, "GITHUB_OUTPUT")
    ctx = {f"inputs.{k}": v for k, v in inputs.items()}
    ctx.update({"runner.tool_cache": tool_cache, "runner.os": "Linux", "runner.arch": "X64",
                "steps.cache.outputs.cache-hit": ""})
    path = env["PATH"]
    for step in action["runs"]["steps"]:
        if "uses" in step:
            continue
        if "if" in step and not condition(step["if"], ctx):
            continue
        senv = dict(env, GITHUB_ACTION_PATH=ROOT, GITHUB_PATH=gh_path, GITHUB_OUTPUT=gh_out, PATH=path)
        senv.update({k: expr(str(v), ctx) for k, v in step.get("env", {}).items()})
        cwd = expr(step.get("working-directory", "."), ctx)
        check(step["shell"] == "bash", "bash steps only")
        run(["bash", "-e", "-c", expr(step["run"], ctx)], senv, os.path.join(tmp, cwd) if cwd == "." else cwd)
        if os.path.exists(gh_path):
            path = ":".join(open(gh_path).read().split()[::-1] + [env["PATH"]])
    outputs = dict(line.split("=", 1) for line in open(gh_out).read().splitlines())
    check(outputs["code"] == "0", f"push exit code {outputs['code']}")
    report = json.loads(outputs["json"])
    check(report["result"] == "landed", f"push result {report}")
    tip = run(["git", "rev-parse", "main"], env, bare).stdout.strip()
    check(outputs["sha"] == tip, f"pushed-sha {outputs['sha']} != {tip}")
    shown = run(["git", "show", "main:prod/kustomization.yaml"], env, bare).stdout
    for want in ('newTag: "1.1"', "newName: registry.example.com/web", "count: 5"):
        check(want in shown, f"remote lacks {want!r}:\n{shown}")
    check(os.path.exists(f"{tool_cache}/kustomerge/{VERSION}/Linux-X64/bin/kustomerge"), "not installed to the cache path")
    print("test-ci-templates: action.yml: installed, set-image --commit, push integrated a concurrent push")


def gitlab_template(tmp):
    env, rel, bare = setup(tmp)
    job = load("ci/gitlab/kustomerge.yml")[".kustomerge"]
    variables = dict(job["variables"])
    variables.update({"KUSTOMERGE_VERSION": VERSION, "KUSTOMERGE_BASE_URL": f"file://{rel}",
                      "KUSTOMERGE_INSTALL_SH": f"file://{rel}/v{VERSION}/install.sh",
                      "KUSTOMERGE_REPO_URL": bare, "KUSTOMERGE_FILE": "prod",
                      "KUSTOMERGE_SET_IMAGE": "api:1.2", "KUSTOMERGE_SET_REPLICAS": "api=3",
                      "KUSTOMERGE_MESSAGE": "deploy api 1.2", "KUSTOMERGE_PUSH": "true"})
    project = os.path.join(tmp, "project")
    os.makedirs(project)
    # GitLab runs before_script and script in one shell, each line under `set -e`.
    script = "set -e\n" + "\n".join(job["before_script"] + job["script"])
    p = run(["sh", "-c", script], dict(env, **variables), project)
    report = json.load(open(f"{project}/kustomerge-push.json"))
    check(report["result"] == "landed", f"gitlab push {report}\n{p.stderr}")
    check(os.path.exists(f"{project}/.kustomerge/{VERSION}/bin/kustomerge"), "not in the cached dir")
    log = run(["git", "log", "-2", "--format=%s", "main"], env, bare).stdout.split("\n")
    check(log[0] == "deploy api 1.2" and log[1] == "deploy api 1.2", f"commit messages {log}")
    shown = run(["git", "show", "main:prod/kustomization.yaml"], env, bare).stdout
    check('newTag: "1.2"' in shown and "count: 3" in shown, shown)
    # A second run finds the binary in the cache and downloads nothing.
    variables["KUSTOMERGE_INSTALL_SH"] = "file:///nonexistent/install.sh"
    variables["KUSTOMERGE_SET_IMAGE"] = "api:1.3"
    variables["KUSTOMERGE_SET_REPLICAS"] = ""
    run(["rm", "-rf", f"{project}/kustomerge-config"], env, project)
    run(["sh", "-c", script], dict(env, **variables), project)
    check('newTag: "1.3"' in run(["git", "show", "main:prod/kustomization.yaml"], env, bare).stdout, "second run")
    print("test-ci-templates: ci/gitlab/kustomerge.yml: installed, cached, set-image/set-replicas --commit, pushed")


structure()
print("test-ci-templates: structure of release.yml, action.yml, the GitLab template and .pre-commit-hooks.yaml OK")
with tempfile.TemporaryDirectory() as tmp:
    github_action(tmp)
with tempfile.TemporaryDirectory() as tmp:
    gitlab_template(tmp)
