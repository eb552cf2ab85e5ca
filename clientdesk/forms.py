from django import forms


class ServiceModelForm(forms.ModelForm):
    """A ModelForm that checks fields only: uniqueness and constraints are the service's to judge, with the
    values it fills in (consent dates, normalised numbers) and a Conflict that names the other record."""

    def validate_unique(self):
        pass

    def validate_constraints(self):
        pass
