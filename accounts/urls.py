from django.contrib.auth import views as auth_views
from django.urls import path

from . import views, views_absences

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("users/", views.UserListView.as_view(), name="user-list"),
    path("users/new/", views.UserCreateView.as_view(), name="user-create"),
    path("users/<int:pk>/", views.UserDetailView.as_view(), name="user-detail"),
    path("users/<int:pk>/keys/", views.ApiKeyCreateView.as_view(), name="apikey-create"),
    path("keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="apikey-revoke"),
    *views_absences.urlpatterns,
]
