"""The claims app's API routes, included under /api/v1/ by the core's URLs."""

from rest_framework.routers import SimpleRouter

from claims.api.claims import ClaimCategoryViewSet, ClaimViewSet

router = SimpleRouter()
router.register("claims", ClaimViewSet, basename="claim")
router.register("claim-categories", ClaimCategoryViewSet, basename="claim-category")
urlpatterns = [*router.urls]
