from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.HeadDashboardView.as_view(), name="dashboard"),
    path("mine/", views.OwnDashboardView.as_view(), name="mine"),
]
