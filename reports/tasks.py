"""The registry's background tasks (django-tasks, run by `manage.py db_worker`).

Thin: each names its work in reports/webhooks.py, where the rules are."""

from django_tasks import task

from reports import webhooks


@task()
def dispatch(rows: dict[str, list[int]], since: str) -> int:
    """The changes of one committed write, made into deliveries."""
    return webhooks.dispatch(rows, since)


@task()
def deliver(delivery_id: int) -> str:
    """One attempt of one delivery."""
    return webhooks.deliver(delivery_id)
