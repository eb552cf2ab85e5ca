"""The webhooks app's API routes, included under /api/v1/ by the core's URLs."""

from rest_framework.routers import SimpleRouter

from webhooks.api.views import ChangeFeedViewSet, DeliveryViewSet, EndpointViewSet

router = SimpleRouter()
router.register("webhook-endpoints", EndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", DeliveryViewSet, basename="webhook-delivery")
router.register("changes", ChangeFeedViewSet, basename="change")
urlpatterns = router.urls
