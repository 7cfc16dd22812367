"""Every deposit's search_text rebuilt to hold its names' keys of the name matcher
(kernel/names.py), which DepositQuerySet.search narrows its candidates by."""

from django.db import migrations


def rebuild_search_text(apps, schema_editor):
    from deposits.models import normalize_search_text

    Deposit = apps.get_model("deposits", "Deposit")
    changed = []
    for deposit in Deposit.objects.only("name", "name_ru", "name_tg", "aliases").iterator(
        chunk_size=2000
    ):
        names = [n for n in (deposit.name, deposit.name_ru, deposit.name_tg) if n]
        names += [a for a in deposit.aliases or [] if isinstance(a, str)]
        deposit.search_text = normalize_search_text("\n".join(names))
        changed.append(deposit)
        if len(changed) >= 2000:
            Deposit.objects.bulk_update(changed, ["search_text"])
            changed = []
    Deposit.objects.bulk_update(changed, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [
        ("deposits", "0016_reported_share_bound"),
    ]

    operations = [
        migrations.RunPython(rebuild_search_text, migrations.RunPython.noop, elidable=True),
    ]
