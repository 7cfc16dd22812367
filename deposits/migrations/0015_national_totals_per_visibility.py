from django.db import migrations, models


def refresh_kept(apps, schema_editor):
    """Nothing now: the kept figures are computed by the share rule itself in 0023, once
    the estimates have every column the rule reads; see 0013."""


class Migration(migrations.Migration):
    """The totals are derived (deposits.shares keeps them), so the table is made again in
    its new shape and filled by the rule rather than converted."""

    dependencies = [
        ("deposits", "0014_alter_deposit_options_alter_district_options_and_more"),
    ]

    operations = [
        migrations.DeleteModel(name="NationalReserveTotal"),
        migrations.CreateModel(
            name="NationalReserveTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "visibility",
                    models.CharField(
                        choices=[
                            ("public", "Public"),
                            ("partners", "Partners"),
                            ("internal", "Internal"),
                        ],
                        max_length=20,
                        verbose_name="visibility of the deposits",
                    ),
                ),
                (
                    "kilograms",
                    models.DecimalField(
                        decimal_places=12, max_digits=40, verbose_name="kilograms"
                    ),
                ),
                (
                    "mineral",
                    models.ForeignKey(
                        on_delete=models.deletion.CASCADE,
                        related_name="national_totals",
                        to="deposits.mineral",
                        verbose_name="mineral",
                    ),
                ),
            ],
            options={
                "verbose_name": "national reserve total",
                "verbose_name_plural": "national reserve totals",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("mineral", "visibility"),
                        name="one_total_per_mineral_and_visibility",
                    )
                ],
            },
        ),
        migrations.RunPython(refresh_kept, migrations.RunPython.noop),
    ]
