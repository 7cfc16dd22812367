from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_visibility(apps, schema_editor):
    """The rows kept so far take their deposit's visibility."""
    Deposit = apps.get_model("deposits", "Deposit")
    GrantedDeposit = apps.get_model("cooperation", "GrantedDeposit")
    GrantedDeposit.objects.update(
        visibility=Subquery(Deposit.objects.filter(pk=OuterRef("deposit_id")).values("visibility"))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cooperation", "0007_grant_changes"),
    ]

    operations = [
        migrations.AddField(
            model_name="granteddeposit",
            name="visibility",
            # Until copied below: counted as beyond every partner level, never hidden.
            field=models.CharField(
                choices=[("public", "Public"), ("partners", "Partners"), ("internal", "Internal")],
                default="internal",
                max_length=10,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(copy_visibility, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="granteddeposit",
            index=models.Index(
                fields=["grant", "visibility", "deposit"], name="granted_deposit_by_level"
            ),
        ),
    ]
