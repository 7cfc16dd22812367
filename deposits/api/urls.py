"""Routes of the deposits resources; registry/api_urls.py mounts them under /api/v1/."""

from deposits.api import views


def register(router) -> None:
    router.register("regions", views.RegionViewSet, basename="region")
    router.register("minerals", views.MineralViewSet, basename="mineral")
    router.register("belts", views.BeltViewSet, basename="belt")
    router.register("deposits", views.DepositViewSet, basename="deposit")
    router.register("reserves", views.ReserveEstimateViewSet, basename="reserve")
    router.register("movements", views.BalanceMovementViewSet, basename="movement")
    router.register("balance/closures", views.BalanceClosureViewSet, basename="balance-closure")
    router.register("stats/minerals", views.MineralStatisticsViewSet, basename="stats-mineral")
    router.register("stats/regions", views.RegionStatisticsViewSet, basename="stats-region")
