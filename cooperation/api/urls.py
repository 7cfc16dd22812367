"""Routes of the cooperation resources; registry/api_urls.py mounts them under /api/v1/."""

from cooperation.api import views


def register(router) -> None:
    router.register("organizations", views.OrganizationViewSet, basename="organization")
    router.register("people", views.PersonViewSet, basename="person")
    router.register("events", views.EventViewSet, basename="event")
    router.register("topics", views.TopicViewSet, basename="topic")
    router.register("memoranda", views.MemorandumViewSet, basename="memorandum")
    router.register("initiatives", views.InitiativeViewSet, basename="initiative")
    router.register(
        r"memoranda/(?P<memorandum_id>[^/.]+)/grants", views.GrantViewSet, basename="grant"
    )
