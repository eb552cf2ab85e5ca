"""The reception app's API routes, included under /api/v1/ by the core's URLs."""

from rest_framework.routers import SimpleRouter

from reception.api.materials import PrintedMaterialViewSet
from reception.api.tinting import TintOrderViewSet
from reception.api.tow import TowContractorViewSet, TowOrderViewSet

router = SimpleRouter()
router.register("tow-orders", TowOrderViewSet, basename="tow-order")
router.register("tow-contractors", TowContractorViewSet, basename="tow-contractor")
router.register("printed-materials", PrintedMaterialViewSet, basename="printed-material")
router.register("tint-orders", TintOrderViewSet, basename="tint-order")
urlpatterns = [*router.urls]
