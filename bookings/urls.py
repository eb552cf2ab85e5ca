from bookings.views import booking, recalls, setup

app_name = "bookings"
urlpatterns = [
    *booking.urlpatterns,
    *recalls.urlpatterns,
    *setup.urlpatterns,
]
