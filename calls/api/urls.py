"""The calls app's API routes, included under /api/v1/ by the core's URLs."""

from rest_framework.routers import SimpleRouter

from calls.api.calls import CallViewSet
from calls.api.campaigns import CampaignViewSet, SurveyResponseViewSet
from calls.api.tasks import CallTaskViewSet

router = SimpleRouter()
router.register("calls", CallViewSet, basename="call")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("survey-responses", SurveyResponseViewSet, basename="survey-response")
router.register("call-tasks", CallTaskViewSet, basename="call-task")
urlpatterns = router.urls
