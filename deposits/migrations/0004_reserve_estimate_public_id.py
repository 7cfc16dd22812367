"""Reserve estimates get stable public identifiers (RES-000001) like every other record."""

import django.utils.timezone
from django.db import migrations, models


def number_existing_estimates(apps, schema_editor):
    """Number every estimate ever recorded (deleted ones live on in history) in id order."""
    Estimate = apps.get_model("deposits", "ReserveEstimate")
    History = apps.get_model("deposits", "HistoricalReserveEstimate")
    Sequence = apps.get_model("registry", "IdentifierSequence")
    sequence, _ = Sequence.objects.get_or_create(prefix="RES")
    ids = set(Estimate.objects.values_list("id", flat=True))
    ids |= set(History.objects.values_list("id", flat=True))
    for estimate_id in sorted(ids):
        sequence.last_value += 1
        public_id = f"RES-{sequence.last_value:06d}"
        Estimate.objects.filter(id=estimate_id).update(public_id=public_id)
        History.objects.filter(id=estimate_id).update(public_id=public_id)
    sequence.save()


class Migration(migrations.Migration):
    dependencies = [
        ("deposits", "0003_mineral_minmod_id"),
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="reserveestimate",
            name="public_id",
            field=models.CharField(editable=False, max_length=20, null=True, verbose_name="identifier"),
        ),
        migrations.AddField(
            model_name="historicalreserveestimate",
            name="public_id",
            field=models.CharField(db_index=True, editable=False, max_length=20, null=True, verbose_name="identifier"),
        ),
        migrations.RunPython(number_existing_estimates, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="reserveestimate",
            name="public_id",
            field=models.CharField(
                editable=False,
                help_text="Stable public identifier; never changes and is never reused.",
                max_length=20,
                unique=True,
                verbose_name="identifier",
            ),
        ),
        migrations.AlterField(
            model_name="historicalreserveestimate",
            name="public_id",
            field=models.CharField(
                db_index=True,
                editable=False,
                help_text="Stable public identifier; never changes and is never reused.",
                max_length=20,
                verbose_name="identifier",
            ),
        ),
        migrations.AddField(
            model_name="reserveestimate",
            name="created_at",
            field=models.DateTimeField(
                auto_now_add=True, default=django.utils.timezone.now, verbose_name="created"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="reserveestimate",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, db_index=True, verbose_name="updated"),
        ),
        migrations.AddField(
            model_name="historicalreserveestimate",
            name="created_at",
            field=models.DateTimeField(
                blank=True, editable=False, default=django.utils.timezone.now, verbose_name="created"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="historicalreserveestimate",
            name="updated_at",
            field=models.DateTimeField(
                blank=True, db_index=True, editable=False, default=django.utils.timezone.now, verbose_name="updated"
            ),
            preserve_default=False,
        ),
    ]
