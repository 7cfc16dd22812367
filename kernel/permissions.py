"""Staff groups and their model permissions, created by data migrations."""

from django.contrib.auth.management import create_permissions

EDIT_ACTIONS = ("view", "add", "change", "delete")
VIEW_ACTIONS = ("view",)


def grant_app_permissions(apps, group_name: str, app_label: str, actions) -> None:
    """Give `group_name` the `actions` permissions on every model of `app_label`.

    Permissions are normally created after all migrations have run; a data
    migration must create them first.
    """
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name=group_name)
    # History rows are evidence: every group may read them, none may edit them.
    codenames = [
        f"{action}_{model._meta.model_name}"
        for model in app_config.get_models()
        for action in actions
        if action == "view" or not model._meta.model_name.startswith("historical")
    ]
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    )
