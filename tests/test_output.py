"""The --out writer (generators/output.py): what it refuses (nothing touched), what it replaces, and fault
injection: killed at every step, concurrent writers, a full disk, a read-only mount."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from conftest import CATALOG, ROOT, SEEDS
from generators import output
from generators.output import MANIFEST, OutputFailed, OutputRefused, write_tree


def snapshot(root: Path) -> dict:
    """Every entry under root (symlinks not followed) with its bytes or link target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir",)
            else:
                out[rel] = ("file", p.read_bytes())
    return out


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def is_complete(root: Path, *candidates: dict[str, bytes]) -> bool:
    """root holds exactly one of the candidate trees plus its manifest."""
    got = tree(root)
    return any(got == {**c, MANIFEST: output.manifest_bytes(c)} for c in candidates)


OLD = {"prometheus/a.rules.yaml": b"old a\n", "grafana/x.json": b"{}\n"}
NEW = {"prometheus/a.rules.yaml": b"new a\n", "prometheus/b.rules.yaml": b"new b\n"}


@pytest.fixture
def repo(tmp_path):
    """A checkout: the seed catalog (alerts/, dashboards/, docs/runbooks/) in a git work tree."""
    r = tmp_path / "repo"
    shutil.copytree(SEEDS, r)
    (r / ".git").mkdir()
    (r / "notes").mkdir()
    (r / "notes" / "todo.txt").write_text("my notes\n")
    return r


# --- refusals: exit 2, the folder named with the reason, nothing touched ---------------------------

def _link_to_notes(repo):
    (repo / "link").symlink_to(repo / "notes")
    return "link"


def _dangling(repo):
    (repo / "dangling").symlink_to(repo / "nowhere")
    return "dangling"


def _edited_output(repo):
    write_tree(OLD, repo / "out")
    (repo / "out" / "prometheus" / "a.rules.yaml").write_bytes(b"hand edit\n")
    return "out"


def _user_file_in_output(repo):
    write_tree(OLD, repo / "out")
    (repo / "out" / "prometheus" / "mine.yaml").write_bytes(b"mine\n")
    return "out"


def _symlink_in_output(repo):
    write_tree(OLD, repo / "out")
    (repo / "out" / "grafana" / "x.json").unlink()
    (repo / "out" / "grafana" / "x.json").symlink_to(repo / "notes" / "todo.txt")
    return "out"


def _user_dir_in_output(repo):
    write_tree(OLD, repo / "out")
    (repo / "out" / "drafts").mkdir()
    return "out"


def _forged_manifest(repo):
    (repo / "scratch").mkdir()
    (repo / "scratch" / MANIFEST).write_text("not json")
    (repo / "scratch" / "keep.txt").write_text("keep")
    return "scratch"


def _a_file(repo):
    (repo / "file.txt").write_text("x")
    return "file.txt"


REFUSED = {
    "the current directory (a checkout's root) is refused": (lambda r: ".", "current directory"),
    "the catalog directory is refused": (lambda r: "alerts", "which mlmon reads"),
    "a folder inside the catalog is refused": (lambda r: "alerts/out", "inside alerts"),
    "the dashboards next to the catalog are refused": (lambda r: "dashboards", "which mlmon reads"),
    "a folder containing the hand-written runbooks is refused": (lambda r: "docs", "docs/runbooks"),
    "a scratch folder with a user's notes is refused": (lambda r: "notes", "not an mlmon output"),
    "a symlink to a user's folder is refused (the target is checked)": (_link_to_notes, "not an mlmon output"),
    "a dangling symlink is refused": (_dangling, "does not exist"),
    "a previous output with a hand-edited file is refused": (_edited_output, "a.rules.yaml was changed"),
    "a previous output with a user's file added is refused": (_user_file_in_output, "mine.yaml was not written"),
    "a previous output whose file became a symlink is refused": (_symlink_in_output, "replaced by a symlink"),
    "a previous output with a user's folder added is refused": (_user_dir_in_output, "drafts/ was not written"),
    "a folder with a manifest that is not mlmon's is refused": (_forged_manifest, "not a valid mlmon manifest"),
    "a file is refused": (_a_file, "not a directory"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
@pytest.mark.parametrize("command", ["render", "runbooks"])
def test_out_refused_and_nothing_touched(cli, repo, case, command):
    make, expected = REFUSED[case]
    out = make(repo)
    before = snapshot(repo)
    extra = ("--env", "dev") if command == "render" else ()
    r = cli(command, *extra, "--out", out, cwd=repo)
    assert r.code == 2, (r.code, r.err)
    assert expected in r.err and "Traceback" not in r.err
    assert "refusing" in r.err or "symlink" in r.err
    assert snapshot(repo) == before


def test_git_work_tree_root_is_refused_from_elsewhere(cli, repo, tmp_path):
    shutil.rmtree(repo / "notes")
    before = snapshot(repo)
    r = cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(repo), cwd=tmp_path)
    assert r.code == 2 and "root of a git work tree" in r.err, r.err
    assert snapshot(repo) == before


def test_home_and_root_are_refused(cli, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for out, why in ((home, "home directory"), (Path("/"), "filesystem root")):
        r = cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(out), cwd=tmp_path)
        assert r.code == 2 and why in r.err, r.err
    assert list(home.iterdir()) == []


def test_render_from_a_checkout_root_deletes_nothing(repo):
    """The report: `mlmon render --env dev --out .` from a checkout's root deleted .git, alerts/, ..."""
    before = snapshot(repo)
    r = subprocess.run([sys.executable, "-m", "generators", "render", "--env", "dev", "--out", "."], cwd=repo,
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2 and "refusing --out" in r.stderr and "Traceback" not in r.stderr
    assert snapshot(repo) == before


# --- what is replaced ---------------------------------------------------------------------------

def test_absent_empty_and_previous_outputs_are_replaced(tmp_path):
    out = tmp_path / "out"
    write_tree(OLD, out)  # absent
    assert is_complete(out, OLD)
    write_tree(NEW, out)  # previous output
    assert is_complete(out, NEW)
    empty = tmp_path / "empty"
    empty.mkdir()
    write_tree(OLD, empty)
    assert is_complete(empty, OLD)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "out"]


def test_manifest_lists_every_file_with_its_hash(tmp_path):
    write_tree(OLD, tmp_path / "out")
    body = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert body["written_by"] == "mlmon"
    import hashlib
    assert body["files"] == {k: hashlib.sha256(v).hexdigest() for k, v in sorted(OLD.items())}


def test_symlinked_out_replaces_the_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "big-disk" / "out"
    write_tree(OLD, target)
    link = tmp_path / "out"
    link.symlink_to(target)
    write_tree(NEW, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert is_complete(target, NEW)
    assert sorted(p.name for p in target.parent.iterdir()) == ["out"]


def test_keep_existing_adds_to_a_previous_output(tmp_path):
    out = tmp_path / "out"
    write_tree(OLD, out)
    write_tree({"prometheus/b.rules.yaml": b"b\n"}, out, keep_existing=True)
    assert is_complete(out, {**OLD, "prometheus/b.rules.yaml": b"b\n"})


def test_render_service_refuses_a_folder_that_is_not_mlmon_output(cli, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("mine")
    r = cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(out), "--service", "rl-feedback-loop")
    assert r.code == 2 and "not an mlmon output" in r.err
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]


def test_overlong_file_name_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(OutputRefused, match="longer than 255 bytes"):
        write_tree({"runbooks/" + "A" * 300 + ".md": b"x"}, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n", [236, 300])
def test_an_overlong_out_name_is_refused_up_front(cli, tmp_path, n):
    r = cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(tmp_path / ("o" * n)))
    assert r.code == 2 and "give a shorter one" in r.err, r.err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("rel", ["../escape", "/abs", "a/../../b", MANIFEST, "a//b"])
def test_paths_outside_the_tree_are_refused(tmp_path, rel):
    with pytest.raises(OutputRefused):
        write_tree({rel: b"x"}, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


# --- failures while writing ---------------------------------------------------------------------

def test_failure_midway_keeps_the_old_tree(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_tree(OLD, out)
    real_open = open
    calls = {"n": 0}

    def flaky(path, mode="r", *a, **kw):
        if "w" in mode and ".tmp-" in str(path):
            calls["n"] += 1
            if calls["n"] == 2:  # the second file of NEW
                raise OSError(28, "No space left on device", str(path))
        return real_open(path, mode, *a, **kw)

    monkeypatch.setattr("builtins.open", flaky)
    with pytest.raises(OutputFailed, match="No space left on device"):
        write_tree(NEW, out)
    monkeypatch.undo()
    assert is_complete(out, OLD)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.fixture
def tmpfs(tmp_path):
    """A 4 MiB tmpfs (root can mount one here; skipped where the machine does not allow it)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip() or r.returncode}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_keeps_the_old_tree_and_exits_1(cli, tmpfs):
    out = tmpfs / "out"
    assert cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(out)).code == 0
    before = tree(out)
    filler = tmpfs / "filler"
    free = os.statvfs(tmpfs).f_bavail * os.statvfs(tmpfs).f_frsize
    filler.write_bytes(b"x" * max(free - 8192, 0))
    r = cli("render", "--catalog", str(CATALOG), "--env", "prod", "--out", str(out))
    assert r.code == 1, r.err
    assert "No space left on device" in r.err and str(out) in r.err and "Traceback" not in r.err
    assert tree(out) == before
    assert sorted(p.name for p in tmpfs.iterdir()) == ["filler", "out"]


def test_read_only_mount_exits_1_naming_the_path(cli, tmpfs):
    out = tmpfs / "out"
    assert cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(out)).code == 0
    before = tree(out)
    assert subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)]).returncode == 0
    r = cli("render", "--catalog", str(CATALOG), "--env", "prod", "--out", str(out))
    assert r.code == 1 and "Read-only file system" in r.err and str(out) in r.err, r.err
    assert tree(out) == before
    r = cli("render", "--catalog", str(CATALOG), "--env", "prod", "--out", str(tmpfs / "new" / "out"))
    assert r.code == 1 and "Read-only file system" in r.err and str(tmpfs / "new") in r.err, r.err


def test_a_mount_point_is_refused_with_a_hint(cli, tmpfs):
    r = cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(tmpfs))
    assert r.code == 2 and "mount point" in r.err and "give a folder inside it" in r.err, r.err
    assert list(tmpfs.iterdir()) == []
    r = cli("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(tmpfs / "out"))
    assert r.code == 0, r.err


# --- killed at every step (SIGKILL in a child process) --------------------------------------------

WRITER = textwrap.dedent("""
    import errno, json, sys
    from generators import output
    files = {k: v.encode() for k, v in json.loads(sys.argv[2]).items()}
    if sys.argv[3] == "no-exchange":
        def exchange(a, b):
            raise OSError(errno.EINVAL, "exchange not supported")
        output.exchange = exchange
    output.write_tree(files, sys.argv[1])
""")


def run_writer(out: Path, files: dict[str, bytes], kill_at: str | None = None, mode: str = "exchange"):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MLMON_TEST_KILL_AT", None)
    if kill_at:
        env["MLMON_TEST_KILL_AT"] = kill_at
    return subprocess.run([sys.executable, "-c", WRITER, str(out), json.dumps({k: v.decode() for k, v in files.items()}),
                           mode], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("mode,kill_at", [("exchange", "before-swap"), ("exchange", "after-swap"),
                                          ("no-exchange", "before-swap"), ("no-exchange", "between-renames")])
def test_killed_run_leaves_a_complete_tree_and_the_next_run_cleans_up(tmp_path, mode, kill_at):
    out = tmp_path / "out"
    write_tree(OLD, out)
    r = run_writer(out, NEW, kill_at, mode)
    assert r.returncode == -9, r.stderr
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name != "out")
    assert leftovers and all(n.startswith((".out.tmp-", ".out.old-")) for n in leftovers)
    if mode == "exchange":  # the atomic exchange: --out is complete at every instant, killed or not
        assert is_complete(out, OLD, NEW)
    elif kill_at == "between-renames":  # the fallback's window: --out missing, the old tree aside
        assert not out.exists()
    r = run_writer(out, NEW)
    assert r.returncode == 0, r.stderr
    assert "interrupted run" in r.stderr
    assert is_complete(out, NEW)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_recovery_restores_an_old_tree_left_aside(tmp_path):
    out = tmp_path / "out"
    write_tree(OLD, out)
    assert run_writer(out, NEW, "between-renames", "no-exchange").returncode == -9
    assert not out.exists()
    write_tree({"extra.yaml": b"x"}, out, keep_existing=True)  # keeps the previous output: the restored one
    assert is_complete(out, {**OLD, "extra.yaml": b"x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_leftover_that_is_not_mlmons_is_left_alone(tmp_path, capsys):
    (tmp_path / ".out.tmp-mine").mkdir()
    (tmp_path / ".out.tmp-mine" / "data.csv").write_text("1,2\n")
    write_tree(OLD, tmp_path / "out")
    assert (tmp_path / ".out.tmp-mine" / "data.csv").read_text() == "1,2\n"
    assert "left" in capsys.readouterr().err


def test_out_never_missing_while_renders_replace_it(tmp_path):
    """Poll --out while children replace it 30 times: the manifest is there at every observation."""
    out = tmp_path / "out"
    write_tree(OLD, out)
    stop = threading.Event()
    seen = {"n": 0, "missing": 0}

    def poll():
        while not stop.is_set():
            seen["n"] += 1
            if not os.path.isfile(out / MANIFEST):
                seen["missing"] += 1

    t = threading.Thread(target=poll)
    t.start()
    try:
        script = "import sys\nfrom generators.output import write_tree\n" \
                 "for i in range(30):\n    write_tree({'a': str(i).encode() * 1000, 'b/c': b'x'}, sys.argv[1])\n"
        r = subprocess.run([sys.executable, "-c", script, str(out)], env={**os.environ, "PYTHONPATH": str(ROOT)},
                           capture_output=True, text=True, timeout=120)
    finally:
        stop.set()
        t.join()
    assert r.returncode == 0, r.stderr
    assert seen["n"] > 100 and seen["missing"] == 0, seen


def test_concurrent_renders_end_with_one_complete_tree(tmp_path):
    out = tmp_path / "out"
    trees = [{f"prometheus/s{i}.rules.yaml": f"tree {i}\n".encode() * 200, "common.yaml": f"{i}\n".encode()}
             for i in range(4)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(out),
                               json.dumps({k: v.decode() for k, v in t.items()}), "exchange"],
                              env=env, stderr=subprocess.PIPE, text=True) for t in trees]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert all(rc == 0 for rc, _ in results), results
    assert is_complete(out, *trees)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_exchange_swaps_two_directories(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "y").write_text("b")
    output.exchange(a, b)
    assert (a / "y").read_text() == "b" and (b / "x").read_text() == "a"


def test_backtest_plots_refuses_a_users_folder_before_running(cli, tmp_path):
    pytest.importorskip("matplotlib")
    plots = tmp_path / "plots"
    plots.mkdir()
    (plots / "ShopQueueDeep.png").write_bytes(b"a user's own picture")
    r = cli("backtest", "--catalog", str(CATALOG), "--prometheus", "http://127.0.0.1:9", "--plots", str(plots))
    assert r.code == 2 and "refusing --plots" in r.err and "not an mlmon output" in r.err, r.err
    assert (plots / "ShopQueueDeep.png").read_bytes() == b"a user's own picture"


# --- the real CLI, killed at random instants and run concurrently (slow tier) ----------------------

def manifest_holds(out: Path) -> bool:
    """Independent of generators.output: the manifest lists exactly the files under out, with their hashes."""
    import hashlib

    body = json.loads((out / MANIFEST).read_text())
    files = {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in out.rglob("*") if p.is_file() and p.name != MANIFEST}
    return body["files"] == files and len(files) > 10


def mlmon(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "generators", *args], env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.slow
def test_render_killed_at_random_instants_leaves_a_complete_out(tmp_path):
    import random
    import signal
    import time

    out = tmp_path / "out"
    rng = random.Random(11)
    assert mlmon("render", "--catalog", str(CATALOG), "--env", "dev", "--out", str(out)).wait(120) == 0
    for i in range(12):
        p = mlmon("render", "--catalog", str(CATALOG), "--env", rng.choice(["dev", "staging", "prod"]),
                  "--out", str(out))
        time.sleep(rng.uniform(0.3, 2.5))
        p.send_signal(signal.SIGKILL)
        p.wait(60)
        assert out.is_dir() and manifest_holds(out), f"iteration {i}: --out incomplete"
    p = mlmon("render", "--catalog", str(CATALOG), "--env", "prod", "--out", str(out))
    assert p.wait(120) == 0, p.stderr.read()
    assert manifest_holds(out) and sorted(x.name for x in tmp_path.iterdir()) == ["out"]


@pytest.mark.slow
def test_concurrent_real_renders_end_with_one_complete_render(tmp_path):
    out = tmp_path / "out"
    envs = ["dev", "staging", "prod"]
    procs = [mlmon("render", "--catalog", str(CATALOG), "--env", env, "--out", str(out)) for env in envs]
    assert [p.wait(300) for p in procs] == [0, 0, 0], [p.stderr.read() for p in procs]
    assert manifest_holds(out)
    rendered = {}
    for env in envs:
        single = tmp_path / f"single-{env}"
        assert mlmon("render", "--catalog", str(CATALOG), "--env", env, "--out", str(single)).wait(120) == 0
        rendered[env] = tree(single)
    assert tree(out) in rendered.values()
    assert sorted(x.name for x in tmp_path.iterdir() if not x.name.startswith("single-")) == ["out"]
