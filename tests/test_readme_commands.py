"""Every command the README and docs/ show works as written after `make run`, on a fresh
copy of the repository: `make run` is started, serves its first page and is stopped, then
each `make manage ARGS="..."` command of the README and the guides runs in the order they
are written, through bash, with no setting but what a new shell has.

They run against the copy's embedded SQLite file, as `make run` does, in the SQLite pass
only (the PostgreSQL pass would run the same commands against the same file). Commands
that name their own database (`DATABASE_URL=sqlite:///restored.sqlite3 make manage ...`)
keep it. Production templates with `...` in them (`SECRET_KEY=... make
serve`) are not commands to copy; their settings are tested in tests/test_settings.py.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from importlib.metadata import distributions
from pathlib import Path

import pytest
from django.db import connection

from tests.test_dependencies import canonical, pins

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# What a command exits with when it works: data_quality reports findings with status 1,
# which make passes on as its own failure status, 2.
WORKING_STATUS = {"data_quality": {0, 2}}


def without_comment(line: str) -> str:
    """A shell line without its trailing `# comment` (a # inside quotes stays)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def shown_commands(path: Path) -> list[str]:
    """The `make manage` commands of a Markdown file, in order: lines of its code blocks
    and its inline code."""
    commands, in_block = [], False
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("```"):
            in_block = not in_block
            continue
        if in_block:
            command = without_comment(line.strip())
            if re.search(r"(^|\s)make manage\b", command):
                commands.append(command)
        else:
            commands += [c for c in re.findall(r"`([^`]+)`", line) if "make manage" in c]
    return commands


def every_shown_command() -> list[tuple[str, str]]:
    """(document, command) of every command shown, each once, where it is first shown."""
    found = {}
    for path in DOCUMENTS:
        for command in shown_commands(path):
            found.setdefault(command, path.relative_to(ROOT).as_posix())
    return [(document, command) for command, document in found.items()]


def test_commands_are_shown_one_way():
    """No `python manage.py ...`, which needs the virtualenv and DEBUG that `make run`
    sets, is left in the README or the guides."""
    for path in DOCUMENTS:
        text = path.read_text()
        assert not re.search(r"python3? manage\.py|(?<![\w/])manage\.py \w", text), path.name
    assert len(every_shown_command()) >= 15
    assert not [c for _document, c in every_shown_command() if "..." in c or "<" in c]


def test_every_make_target_shown_exists():
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))
    shown = set()
    for path in DOCUMENTS:
        for code in re.findall(r"`([^`]+)`|^(make .*)$", path.read_text(), re.M):
            for text in code:
                shown |= set(re.findall(r"(?:^|\s)make ([a-z][a-z-]*)", text))
    assert shown
    assert shown <= targets, shown - targets


def test_the_comment_of_a_line_is_left_out():
    assert without_comment('make manage ARGS="a #b"   # why') == 'make manage ARGS="a #b"'
    assert without_comment("make manage ARGS=x") == "make manage ARGS=x"


# --- running them ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_copy(destination: Path) -> Path:
    """The repository's files as a clone has them (tracked and new, not ignored ones), and
    a view of this virtualenv as the copy's `.venv`, stamped installed: it holds
    requirements.lock exactly (checked), so `make` has nothing to install."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)

    installed = {canonical(d.metadata["Name"]): d.version for d in distributions()}
    differing = {
        name: version
        for name, version in pins("requirements.lock").items()
        if installed.get(name) != version
    }
    assert differing == {}, "the virtualenv does not hold requirements.lock: make install"
    venv, real = destination / ".venv", Path(sys.prefix)
    (venv / "bin").mkdir(parents=True)
    shutil.copy2(real / "pyvenv.cfg", venv / "pyvenv.cfg")
    (venv / "lib").symlink_to(real / "lib")
    (venv / "bin" / "python").symlink_to(real / "bin" / "python")
    (venv / "bin" / ".installed-runtime").touch()
    return destination


def a_new_shell() -> dict[str, str]:
    """What a new terminal has: no DEBUG, SECRET_KEY or DATABASE_URL of the suite."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
    }


def make_run(copy: Path, environment: dict) -> None:
    """`make run` until it serves its first page, then stopped (with runserver's reloader)."""
    port = free_port()
    log = (copy / "make-run.log").open("w")
    server = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=copy,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 600
        while True:
            assert server.poll() is None, (copy / "make-run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "make run served nothing in 10 minutes"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/docs/", timeout=5) as page:
                    assert page.status == 200
                    break
            except OSError:
                time.sleep(1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    output = (copy / "make-run.log").read_text()
    assert "Demo registry loaded." in output


@pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="the README's `make run` runs on SQLite; the commands run once, in the SQLite pass",
)
def test_every_command_shown_works_as_written_after_make_run(tmp_path):
    if shutil.which("make") is None or shutil.which("git") is None:
        reason = "make and git are needed to run the README's commands"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    copy = fresh_copy(tmp_path / "registry")
    environment = a_new_shell()
    make_run(copy, environment)

    failures = []
    for document, command in every_shown_command():
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=copy,
            env=environment,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        asked = re.search(r"ARGS=[\"']?(\w+)", command)
        name = asked.group(1) if asked else "help"
        if result.returncode not in WORKING_STATUS.get(name, {0}) or "Traceback" in (result.stderr):
            failures.append(f"{document}: {command}\n{result.stdout[-800:]}{result.stderr[-1500:]}")
        elif name == "issue_api_token":
            assert re.search(r"\btjr_\S{20,}", result.stdout), (command, result.stdout)
    assert failures == [], "\n\n".join(failures)
    assert (copy / "registry.json.gz").stat().st_size > 10_000  # the dump the docs restore
