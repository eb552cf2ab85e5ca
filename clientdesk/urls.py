"""The site's URLs: each app's pages and API routes, included by name (the core imports no app)."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from clientdesk import views

# Django tries the patterns in order on every request: the pages' prefixed apps first, the accounts' unprefixed
# patterns (sign-in, home, users) last, so a page's or an API route's resolving does not walk eighteen of them first.
urlpatterns = [
    path("healthz", views.health, name="health"),
    path("clients/", include("clients.urls")),
    path("calls/", include("calls.urls")),
    path("workshop/", include("bookings.urls")),
    path("documents/", include("documents.urls")),
    path("fleet/", include("fleet.urls")),
    path("claims/", include("claims.urls")),
    path("reception/", include("reception.urls")),
    path("reports/", include("reports.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("clients.api.urls")),
    path("api/v1/", include("bookings.api.urls")),
    path("api/v1/", include("documents.api.urls")),
    path("api/v1/", include("fleet.api.urls")),
    path("api/v1/", include("calls.api.urls")),
    path("api/v1/", include("claims.api.urls")),
    path("api/v1/", include("reception.api.urls")),
    path("api/v1/", include("reports.api.urls")),
    path("api/v1/", include("webhooks.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
]

handler404 = "clientdesk.middleware.page_not_found"
handler500 = "clientdesk.middleware.server_error"
