from django.urls import path

from clients.views import clients as views
from clients.views import deliveries as views_deliveries

app_name = "clients"
urlpatterns = [
    path("", views.SearchView.as_view(), name="search"),
    path("list/", views.ClientListView.as_view(), name="list"),
    path("new/", views.ClientCreateView.as_view(), name="create"),
    path("duplicates/", views.DuplicateListView.as_view(), name="duplicates"),
    path("<int:pk>/", views.ClientDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.ClientUpdateView.as_view(), name="edit"),
    path("<int:pk>/history/", views.ClientHistoryView.as_view(), name="history"),
    path("<int:pk>/merge/", views.MergeView.as_view(), name="merge"),
    path("<int:pk>/vehicles/new/", views.VehicleFormView.as_view(), name="vehicle-create"),
    path("vehicles/<int:pk>/", views.VehicleDetailView.as_view(), name="vehicle-detail"),
    path("vehicles/<int:vehicle_pk>/edit/", views.VehicleFormView.as_view(), name="vehicle-edit"),
    *views_deliveries.urlpatterns,
]
