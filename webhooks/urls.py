from django.urls import path

from webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.WebhookListView.as_view(), name="list"),
    path("deliveries/<int:pk>/replay/", views.DeliveryReplayView.as_view(), name="delivery-replay"),
    path("endpoints/<int:pk>/enable/", views.EndpointEnableView.as_view(), name="endpoint-enable"),
]
