from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import absences, home
from accounts.views import users as views

# Sign-in, users, keys and absences under /accounts/ (namespace "accounts"); the landing page and the notification
# bell at the top, by their plain names, because every page links to them.
app_patterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("password/reset/done/", views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("users/", views.UserListView.as_view(), name="user-list"),
    path("users/new/", views.UserCreateView.as_view(), name="user-create"),
    path("users/<int:pk>/", views.UserDetailView.as_view(), name="user-detail"),
    path("users/<int:pk>/keys/", views.ApiKeyCreateView.as_view(), name="apikey-create"),
    path("users/<int:pk>/unlock/", views.UserUnlockView.as_view(), name="user-unlock"),
    path("users/<int:pk>/send-reset/", views.UserPasswordResetSendView.as_view(), name="user-send-reset"),
    path("lockouts/address/unlock/", views.AddressUnlockView.as_view(), name="address-unlock"),
    path("keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="apikey-revoke"),
    *absences.urlpatterns,
]
urlpatterns = [
    path("", home.HomeView.as_view(), name="home"),
    path("notifications/", home.NotificationsView.as_view(), name="notifications"),
    path("accounts/", include((app_patterns, "accounts"))),
]
