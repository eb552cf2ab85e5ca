from django.urls import path

from . import views

app_name = "calls"
urlpatterns = [
    path("", views.CallListView.as_view(), name="list"),
    path("new/", views.NewCallView.as_view(), name="new"),
    path("unknown/", views.UnknownCallerView.as_view(), name="unknown"),
    path("client/<int:pk>/", views.ClientCallCreateView.as_view(), name="log-for-client"),
]
