import ipaddress
import logging
import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from accounts.forms import (
    ApiKeyForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
    UserCreateForm,
    UserUpdateForm,
)
from accounts.models import ApiKey, User
from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from accounts.selectors import locked_out, security_events
from accounts.services import security
from accounts.services import users as services
from accounts.throttle import FailureThrottle
from clientdesk.middleware import client_ip
from clientdesk.timefmt import local_time_text
from clientdesk.views import ServiceFormView, apply_validation_error

security_log = logging.getLogger("clientdesk.security")


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def _until(moment) -> dict:
    minutes = max(1, math.ceil((moment - timezone.now()).total_seconds() / 60))
    return {"time": local_time_text(moment), "minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' AXES_LOCKOUT_CALLABLE: the sign-in page again (429), saying what is locked, until when, and who
    can lift it. The form is not validated again: that would count one more failure."""
    username = (credentials or {}).get("username") or request.POST.get("username") or ""
    address = client_ip(request)
    user_until = locked_out(by="username", value=username).get(username) if username else None
    address_until = locked_out(by="ip_address", value=address).get(address)
    if user_until and (not address_until or user_until >= address_until):
        message = _(
            "Too many failed sign-ins for the user %(username)s: signing in as this user is locked until %(time)s "
            "(%(minutes)s min). The department head can unlock it sooner; or reset your password by e-mail."
        ) % {"username": username, **_until(user_until)}
    else:
        moment = address_until or timezone.now() + settings.AXES_COOLOFF_TIME
        message = _(
            "Too many failed sign-ins from this computer's address (%(address)s): signing in from it is locked until "
            "%(time)s (%(minutes)s min). The department head can unlock it sooner."
        ) % {"address": address, **_until(moment)}
    form = LoginForm(request, initial={"username": username})
    context = {"form": form, "lockout_message": message, "next": request.POST.get("next", "")}
    return render(request, "accounts/login.html", context, status=429)


# --- Password reset (anonymous: "Forgot your password?" on the sign-in page) ------------------------------------------

# A reset request sends mail: a few per address per quarter hour is plenty for a person, and keeps the form from
# being used to flood someone's mailbox. Past that, the page answers the same and sends nothing.
RESET_REQUESTS_PER_ADDRESS = 5


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    form_class = PasswordResetForm
    success_url = reverse_lazy("accounts:password-reset-done")

    def form_valid(self, form):
        address = client_ip(self.request)
        throttle = FailureThrottle("password-reset", limit=RESET_REQUESTS_PER_ADDRESS, window=15 * 60)
        if throttle.add_failure(address) <= RESET_REQUESTS_PER_ADDRESS:  # one atomic count (0: the cache is down)
            security.password_reset_request(
                email=form.cleaned_data["email"],
                domain=self.request.get_host(),
                secure=self.request.is_secure(),
                address=address,
            )
        else:
            security_log.warning("Password reset throttled: address=%s", address)
        return redirect(self.success_url)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(minutes=settings.PASSWORD_RESET_TIMEOUT // 60, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("accounts:password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        security.password_reset_completed(user=form.user, address=client_ip(self.request))
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


class PasswordChangeView(CapabilityRequiredMixin, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        messages.success(self.request, _("Your password has been changed."))
        return super().form_valid(form)


class UserListView(CapabilityRequiredMixin, ListView):
    required_capability = Capability.MANAGE_USERS
    template_name = "accounts/user_list.html"
    context_object_name = "users"

    def get_queryset(self):
        return User.objects.order_by("-is_active", "role", "last_name", "username")

    def get_context_data(self, **kwargs):
        locked_users = locked_out(by="username")
        for user in kwargs.get("object_list", self.object_list):
            user.locked_until = locked_users.get(user.username)
        return super().get_context_data(locked_addresses=sorted(locked_out(by="ip_address").items()), **kwargs)


class UserCreateView(CapabilityRequiredMixin, ServiceFormView):
    required_capability = Capability.MANAGE_USERS
    template_name = "accounts/user_form.html"
    form_class = UserCreateForm

    def perform(self, form):
        data = form.cleaned_data
        user = services.user_create(
            by=self.request.user,
            username=data["username"],
            role=data["role"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            password=data.get("password1") or None,
        )
        messages.success(self.request, _("User %(user)s created.") % {"user": user})
        return redirect("accounts:user-detail", pk=user.pk)


class UserDetailView(CapabilityRequiredMixin, ServiceFormView):
    """The user's details form, and for an integration user the API keys."""

    required_capability = Capability.MANAGE_USERS
    template_name = "accounts/user_detail.html"
    form_class = UserUpdateForm

    def dispatch(self, request, *args, **kwargs):
        self.object = get_object_or_404(User, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            subject=self.object,
            api_keys=self.object.api_keys.all() if self.object.is_integration else None,
            key_form=ApiKeyForm(),
            locked_until=locked_out(by="username", value=self.object.username).get(self.object.username),
            security_events=security_events(user=self.object),
            **kwargs,
        )

    def perform(self, form):
        # The form has written the cleaned values onto the instance; the service re-validates and saves.
        fields = {name: form.cleaned_data[name] for name in form.changed_data}
        self.object.refresh_from_db()
        services.user_update(user=self.object, by=self.request.user, **fields)
        messages.success(self.request, _("Saved."))
        return redirect("accounts:user-detail", pk=self.object.pk)


class ApiKeyCreateView(CapabilityRequiredMixin, View):
    required_capability = Capability.MANAGE_USERS

    def post(self, request, pk):
        subject = get_object_or_404(User, pk=pk)
        form = ApiKeyForm(request.POST)
        raw_key = None
        if form.is_valid():
            try:
                _key, raw_key = services.api_key_create(
                    user=subject,
                    name=form.cleaned_data["name"],
                    by=request.user,
                    scopes=form.cleaned_data["scopes"],
                    rate_per_minute=form.cleaned_data["rate_per_minute"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
        if raw_key is None:
            return render(
                request,
                "accounts/user_detail.html",
                {
                    "subject": subject,
                    "form": UserUpdateForm(instance=subject),
                    "api_keys": subject.api_keys.all(),
                    "key_form": form,
                },
                status=400,
            )
        return render(request, "accounts/api_key_created.html", {"subject": subject, "raw_key": raw_key})


class ApiKeyRevokeView(CapabilityRequiredMixin, View):
    required_capability = Capability.MANAGE_USERS

    def post(self, request, pk):
        key = get_object_or_404(ApiKey, pk=pk)
        services.api_key_revoke(key=key, by=request.user)
        messages.success(request, _("Key %(key)s revoked.") % {"key": key})
        return redirect(reverse("accounts:user-detail", args=[key.user_id]))


# --- The head: unlock a user or an address, send a user a reset link -------------------------------------------------


class UserUnlockView(CapabilityRequiredMixin, View):
    required_capability = Capability.MANAGE_USERS

    def post(self, request, pk):
        subject = get_object_or_404(User, pk=pk)
        security.user_unlock(user=subject, by=request.user)
        messages.success(request, _("%(user)s can sign in again.") % {"user": subject})
        if request.POST.get("back") == "list":
            return redirect("accounts:user-list")
        return redirect("accounts:user-detail", pk=pk)


class AddressUnlockView(CapabilityRequiredMixin, View):
    required_capability = Capability.MANAGE_USERS

    def post(self, request):
        try:
            address = str(ipaddress.ip_address(request.POST.get("address", "").strip()))
        except ValueError:
            raise Http404 from None
        security.address_unlock(address=address, by=request.user)
        messages.success(request, _("Signing in from %(address)s is possible again.") % {"address": address})
        return redirect("accounts:user-list")


class UserPasswordResetSendView(CapabilityRequiredMixin, View):
    required_capability = Capability.MANAGE_USERS

    def post(self, request, pk):
        subject = get_object_or_404(User, pk=pk)
        try:
            security.user_password_reset_send(
                user=subject, by=request.user, domain=request.get_host(), secure=request.is_secure()
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, _("A link to set a new password was sent to %(email)s.") % {"email": subject.email}
            )
        return redirect("accounts:user-detail", pk=pk)
