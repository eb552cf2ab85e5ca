from django.urls import path

from calls.views import calls as views
from calls.views import campaigns as views_campaigns
from calls.views import head as views_head

app_name = "calls"
urlpatterns = [
    path("", views.CallListView.as_view(), name="list"),
    path("new/", views.NewCallView.as_view(), name="new"),
    path("unknown/", views.UnknownCallerView.as_view(), name="unknown"),
    path("client/<int:pk>/", views.ClientCallCreateView.as_view(), name="log-for-client"),
    path("queue/", views.QueueView.as_view(), name="queue"),
    path("queue/next/", views.TakeNextTaskView.as_view(), name="queue-next"),
    path("tasks/<int:pk>/", views.TaskWorkView.as_view(), name="task"),
    path("tasks/<int:pk>/take/", views.TakeTaskView.as_view(), name="task-take"),
    *views_campaigns.urlpatterns,
    *views_head.urlpatterns,
]
