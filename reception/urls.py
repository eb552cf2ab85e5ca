from reception.views import materials, tinting, tow

app_name = "reception"
urlpatterns = [
    *tow.urlpatterns,
    *materials.urlpatterns,
    *tinting.urlpatterns,
]
