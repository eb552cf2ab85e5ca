"""The bookings app's API routes, included under /api/v1/ by the core's URLs."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from bookings.api.bookings import BookingViewSet, FreeSlotsView
from bookings.api.recalls import RecallCampaignViewSet

router = SimpleRouter()
router.register("recall-campaigns", RecallCampaignViewSet, basename="recall-campaign")
router.register("bookings", BookingViewSet, basename="booking")
urlpatterns = [path("free-slots/", FreeSlotsView.as_view(), name="api-free-slots"), *router.urls]
