from django.urls import path

from .views import recalls, setup

app_name = "bookings"
urlpatterns = [
    *recalls.urlpatterns,
    *setup.urlpatterns,
]
