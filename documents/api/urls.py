"""The documents app's API routes, included under /api/v1/ by the core's URLs."""

from rest_framework.routers import SimpleRouter

from documents.api.documents import DocumentViewSet, RegistryViewSet

router = SimpleRouter()
router.register("documents", DocumentViewSet, basename="document")
router.register("document-registries", RegistryViewSet, basename="document-registry")
urlpatterns = [*router.urls]
