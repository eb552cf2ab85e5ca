from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, User
from accounts.roles import Capability, Role
from clientdesk.forms import StyledForm, StyledFormMixin


class UserCreateForm(StyledFormMixin, forms.ModelForm):
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, required=False, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, required=False, strip=False)

    class Meta:
        model = User
        fields = ["username", "last_name", "first_name", "email", "role"]

    def clean(self):
        data = super().clean()
        role, p1, p2 = data.get("role"), data.get("password1"), data.get("password2")
        if role and role != Role.INTEGRATION:
            if not p1:
                self.add_error("password1", _("Staff sign in with a password; set one."))
            elif p1 != p2:
                self.add_error("password2", _("The two passwords differ."))
            else:
                try:
                    password_validation.validate_password(p1, User(username=data.get("username", "")))
                except forms.ValidationError as exc:
                    self.add_error("password1", exc)
        return data


class UserUpdateForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["last_name", "first_name", "email", "role", "is_active"]


SCOPE_LABELS = {
    Capability.VIEW_CLIENTS: _("Read clients and vehicles"),
    Capability.EDIT_CLIENTS: _("Write clients, vehicles and deliveries"),
    Capability.VIEW_BOOKINGS: _("Read bookings"),
    Capability.EDIT_BOOKINGS: _("Write bookings"),
    Capability.VIEW_CALLS: _("Read calls and call tasks"),
    Capability.LOG_CALLS: _("Log calls"),
    Capability.MANAGE_RECALLS: _("Manage recall campaigns"),
    Capability.VIEW_RECEPTION: _("Read reception"),
    Capability.VIEW_DEPARTMENT_FIGURES: _("Read the department's figures"),
    Capability.VIEW_CLAIMS: _("Read claims"),
    Capability.VIEW_DOCUMENTS: _("Read documents"),
    Capability.EDIT_DOCUMENTS: _("Write documents"),
    Capability.VIEW_FLEET: _("Read the fleet"),
}


class ApiKeyForm(StyledForm):
    name = forms.CharField(label=_("Key name"), max_length=100, help_text=_("Where the key is used: 'DMS production'."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(scope.value, SCOPE_LABELS[scope]) for scope in ApiKey.SCOPES],
        help_text=_("What the key may do; none ticked: everything its user may."),
    )
    rate_per_minute = forms.IntegerField(
        label=_("Requests a minute"),
        required=False,
        min_value=1,
        max_value=1_000_000,
        help_text=_("Past this the key is answered 429 until the minute ends; empty: the site's default."),
    )


class LoginForm(StyledFormMixin, AuthenticationForm):
    pass


class PasswordChangeForm(StyledFormMixin, auth_forms.PasswordChangeForm):
    pass


class PasswordResetForm(StyledFormMixin, auth_forms.PasswordResetForm):
    """The address field of Django's reset form; the view hands it to accounts.services.security."""


class SetPasswordForm(StyledFormMixin, auth_forms.SetPasswordForm):
    pass
