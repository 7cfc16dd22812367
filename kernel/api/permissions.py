"""Who may write through the API: staff users holding the model permission."""

from rest_framework.permissions import SAFE_METHODS, BasePermission, DjangoModelPermissions


class ReadAnyWriteStaffWithModelPermission(DjangoModelPermissions):
    """Reads are open (visibility narrows what each caller sees); writes need a staff
    user with Django's add/change/delete permission on the model, exactly as the admin.

    Anonymous writes answer 401 and partner keys 403 (DRF decides which from
    whether any credentials were presented).
    """

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        return super().has_permission(request, view)


class ReadOnly(BasePermission):
    """For resources that are never written through the API (regions, statistics, ...)."""

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS
