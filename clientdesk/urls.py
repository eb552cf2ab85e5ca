from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from bookings.api import BookingViewSet, FreeSlotsView
from bookings.api_recalls import RecallCampaignViewSet
from calls.api import CallViewSet
from calls.api_campaigns import CampaignViewSet, SurveyResponseViewSet
from calls.api_tasks import CallTaskViewSet
from clients.api import ClientViewSet, VehicleViewSet
from clients.api_deliveries import DeliveryViewSet

from . import views

router = DefaultRouter()
router.register("clients", ClientViewSet, basename="client")
router.register("vehicles", VehicleViewSet, basename="vehicle")
router.register("calls", CallViewSet, basename="call")
router.register("recall-campaigns", RecallCampaignViewSet, basename="recall-campaign")
router.register("bookings", BookingViewSet, basename="booking")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("survey-responses", SurveyResponseViewSet, basename="survey-response")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("call-tasks", CallTaskViewSet, basename="call-task")

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("healthz", views.health, name="health"),
    path("notifications/", views.NotificationsView.as_view(), name="notifications"),
    path("accounts/", include("accounts.urls")),
    path("clients/", include("clients.urls")),
    path("calls/", include("calls.urls")),
    path("workshop/", include("bookings.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/free-slots/", FreeSlotsView.as_view(), name="api-free-slots"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
