from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from accounts.forms import ApiKeyForm, LoginForm, PasswordChangeForm, UserCreateForm, UserUpdateForm
from accounts.models import ApiKey, User
from accounts.permissions import CapabilityRequiredMixin
from accounts.roles import Capability
from accounts.services import users as services
from clientdesk.views import ServiceFormView, apply_validation_error


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


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
                _key, raw_key = services.api_key_create(user=subject, name=form.cleaned_data["name"], by=request.user)
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
