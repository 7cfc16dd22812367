from django.db import migrations

from kernel.permissions import EDIT_ACTIONS, VIEW_ACTIONS, grant_app_permissions


def create_groups(apps, schema_editor):
    grant_app_permissions(apps, "Registry editors", "deposits", EDIT_ACTIONS)
    grant_app_permissions(apps, "Registry viewers", "deposits", VIEW_ACTIONS)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Registry editors", "Registry viewers"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("deposits", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
