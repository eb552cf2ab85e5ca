from fleet.views import cars, panels, reservations, test_drives

app_name = "fleet"
urlpatterns = [*cars.urlpatterns, *reservations.urlpatterns, *test_drives.urlpatterns, *panels.urlpatterns]
