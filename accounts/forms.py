from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
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


class ApiKeyForm(StyledForm):
    name = forms.CharField(label=_("Key name"), max_length=100, help_text=_("Where the key is used: 'DMS production'."))


class LoginForm(StyledFormMixin, AuthenticationForm):
    pass


class PasswordChangeForm(StyledFormMixin, auth_forms.PasswordChangeForm):
    pass


class PasswordResetForm(StyledFormMixin, auth_forms.PasswordResetForm):
    """The address field of Django's reset form; the view hands it to accounts.services.security."""


class SetPasswordForm(StyledFormMixin, auth_forms.SetPasswordForm):
    pass
