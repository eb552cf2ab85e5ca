from claims import views

app_name = "claims"
urlpatterns = [*views.urlpatterns]
