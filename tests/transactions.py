"""What a commit would do, in tests whose transactions never commit: the on-commit
callbacks run, and records shared by a module's tests kept in a transaction of their own."""

from django.db import DEFAULT_DB_ALIAS, connections, transaction


def run_on_commit_callbacks():
    """What a commit does for on-commit callbacks (such as moving the registry's
    generation), in a transaction that never commits: runs the pending ones and leaves
    none pending."""
    connection = connections[DEFAULT_DB_ALIAS]
    pending, connection.run_on_commit = connection.run_on_commit, []
    for _, callback, _ in pending:
        callback()


def made_for_module(django_db_blocker, make):
    """For a module-scoped fixture (`yield from`): what `make()` makes, in a transaction
    kept open for the module's tests and rolled back after its last, as if committed (its
    on-commit callbacks run, so each test starts with none pending). Each test still runs
    in a transaction of its own inside it (a savepoint), so what one test writes, the
    next does not see. For modules whose every test reads it (`pytest.mark.usefixtures`);
    not for transactional tests: they commit, and their flush would empty it under the
    module's other tests."""
    with django_db_blocker.unblock(), transaction.atomic():
        made = make()
        run_on_commit_callbacks()
        yield made
        transaction.set_rollback(True)
