"""No edit is lost through the API: concurrent writers in several processes, on PostgreSQL.

gunicorn with three workers serves a fresh database (tests/live_registry.py); four
client processes PATCH the same deposit at once, mostly with the ETag they just
read in `If-Match`, every fifth time without. Each write sets the description and
the aliases to the same token, so a half-written record would show.

Afterwards: every answer was 200 (applied), 412 (refused, stale ETag) or, exactly
for the writes without a version, 428 (refused, If-Match required); the history
has exactly one row per applied write and none for a refused one; versions
go up by one per write with no gap or repeat; every row, and the record, has its
description and aliases from the same write; the record is the last applied write.
"""

import json
import multiprocessing
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.live_registry import LiveRegistry, connect, manage, needs_postgres

pytestmark = [needs_postgres]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
WRITERS = 4
WRITES_EACH = 15

CREATE_DEPOSIT = """
from deposits.models import Deposit, Region
region, _ = Region.objects.get_or_create(code="TJ-SU", defaults={"name": "Sughd"})
print(Deposit.objects.create(name="Konimansuri Kalon", region=region).public_id)
"""


def request(method: str, url: str, key: str, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
    all_headers.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def writer(number: int, url: str, key: str, results) -> None:
    for write in range(WRITES_EACH):
        token = f"writer{number}-write{write}"
        headers = {}
        with_if_match = write % 5 != 4
        if with_if_match:
            status, response_headers, _body = request("GET", url, key)
            assert status == 200
            headers["If-Match"] = response_headers["ETag"]
        body = {"description": token, "aliases": [token]}
        status, _headers, content = request("PATCH", url, key, body, headers)
        results.append((token, with_if_match, status, content[:300].decode(errors="replace")))


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    with LiveRegistry(f"trust_concurrency_{os.getpid()}", workers=3) as live:
        live.deposit_id = manage(live.database, "shell", "-v0", "-c", CREATE_DEPOSIT).strip()
        yield live


def test_concurrent_patches_are_applied_or_refused_and_history_accounts_for_each(registry):
    url = f"{registry.url}/api/v1/deposits/{registry.deposit_id}/"
    with multiprocessing.Manager() as manager:
        results = manager.list()
        processes = [
            multiprocessing.Process(target=writer, args=(n, url, registry.staff_key, results))
            for n in range(WRITERS)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=120)
            assert process.exitcode == 0
        results = list(results)

    assert len(results) == WRITERS * WRITES_EACH
    expected = {True: (200, 412), False: (428,)}  # by whether the write sent its ETag
    unexpected = [r for r in results if r[2] not in expected[r[1]]]
    assert unexpected == [], unexpected
    applied = {token for token, _if_match, status, _ in results if status == 200}
    refused = {token for token, _if_match, status, _ in results if status == 412}
    unversioned = {token for token, _if_match, status, _ in results if status == 428}
    summary = {
        "writers": WRITERS,
        "writes": len(results),
        "with_if_match": sum(1 for r in results if r[1]),
        "applied": len(applied),
        "refused_412": len(refused),
        "refused_428": len(unversioned),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "concurrency.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("\nconcurrency:", json.dumps(summary))
    assert refused, "no write was refused: the writers did not overlap, the test proved nothing"

    with connect(registry.database) as connection:
        record = connection.execute(
            "SELECT id, description, aliases, version FROM deposits_deposit WHERE public_id = %s",
            [registry.deposit_id],
        ).fetchone()
        history = connection.execute(
            "SELECT description, aliases, version, history_type FROM deposits_historicaldeposit"
            " WHERE id = %s ORDER BY history_date, history_id",
            [record[0]],
        ).fetchall()

    created, *updates = history
    assert created[3] == "+"
    assert [row[3] for row in updates] == ["~"] * len(applied)
    assert sorted(row[0] for row in updates) == sorted(applied)  # each applied write once
    assert not (refused | unversioned) & {row[0] for row in history}  # refused: no trace
    for description, aliases, _version, _type in updates:
        assert aliases == [description]  # both fields from the same write: nothing half-done
    assert [row[2] for row in history] == list(range(1, len(applied) + 2))
    _id, description, aliases, version = record
    assert (description, aliases, version) == (updates[-1][0], [updates[-1][0]], len(applied) + 1)


def test_a_stale_if_match_is_refused_across_processes(registry):
    """One reader's ETag goes stale when another process writes; the write is a 412."""
    url = f"{registry.url}/api/v1/deposits/{registry.deposit_id}/"
    status, headers, _ = request("GET", url, registry.staff_key)
    etag = headers["ETag"]
    someone_else = request(
        "PATCH", url, registry.staff_key, {"description": "someone else"}, {"If-Match": etag}
    )
    assert someone_else[0] == 200
    status, _headers, content = request(
        "PATCH", url, registry.staff_key, {"description": "mine"}, {"If-Match": etag}
    )
    assert status == 412
    assert "changed since you read it" in json.loads(content)["detail"]
    assert json.loads(request("GET", url, registry.staff_key)[2])["description"] == "someone else"
