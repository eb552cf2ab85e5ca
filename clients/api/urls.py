"""The clients app's API routes, included under /api/v1/ by the core's URLs."""

from rest_framework.routers import SimpleRouter

from clients.api.clients import ClientViewSet, VehicleViewSet
from clients.api.deliveries import DeliveryViewSet

router = SimpleRouter()
router.register("clients", ClientViewSet, basename="client")
router.register("vehicles", VehicleViewSet, basename="vehicle")
router.register("deliveries", DeliveryViewSet, basename="delivery")
urlpatterns = router.urls
