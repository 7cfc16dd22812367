from django.db import migrations, models


def refresh_kept(apps, schema_editor):
    """The kept figures, computed by the share rule itself (calling the rule, rather than a
    copy of it frozen here, keeps one definition): each estimate's `superseded_on`, which
    the rule now reads, then the sums read from it. 0013, 0015 and 0021 defer to this one;
    the latest migration that changes what the rule reads calls it."""
    from deposits.shares import refresh_kept

    refresh_kept()


class Migration(migrations.Migration):
    dependencies = [
        ("deposits", "0022_mineral_critical_lists"),
    ]

    operations = [
        migrations.AddField(
            model_name="reserveestimate",
            name="superseded_on",
            field=models.DateField(editable=False, null=True, verbose_name="superseded on"),
        ),
        migrations.RunPython(refresh_kept, migrations.RunPython.noop),
    ]
