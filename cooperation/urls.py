"""URLs of the cooperation pages."""

from django.urls import path

from cooperation import views

urlpatterns = [
    path("cooperation/", views.cooperation_index, name="cooperation-index"),
    path("cooperation/events/<str:public_id>/", views.event_detail, name="event-detail"),
    path(
        "cooperation/memoranda/<str:public_id>/",
        views.memorandum_detail,
        name="memorandum-detail",
    ),
    path(
        "cooperation/organisations/<str:public_id>/",
        views.organisation_detail,
        name="organisation-detail",
    ),
]
