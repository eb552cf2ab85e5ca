"""The fleet app's API routes, included under /api/v1/ by the core's URLs."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from fleet.api.views import CarViewSet, FreeCarsView, ReservationViewSet, TestDriveViewSet

router = SimpleRouter()
router.register("fleet-cars", CarViewSet, basename="fleet-car")
router.register("fleet-reservations", ReservationViewSet, basename="fleet-reservation")
router.register("test-drives", TestDriveViewSet, basename="test-drive")
urlpatterns = [*router.urls, path("fleet-free-cars/", FreeCarsView.as_view(), name="fleet-free-cars")]
