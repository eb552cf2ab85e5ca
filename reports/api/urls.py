"""The reports app's API routes, included under /api/v1/ by the core's URLs."""

from rest_framework.routers import SimpleRouter

from reports.api.dashboard import DashboardViewSet

router = SimpleRouter()
router.register("reports/dashboard", DashboardViewSet, basename="report-dashboard")
urlpatterns = router.urls
