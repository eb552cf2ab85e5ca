from documents.views import urlpatterns

app_name = "documents"
__all__ = ["app_name", "urlpatterns"]
