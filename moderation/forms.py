"""Staff page forms. They parse input; community services validate and write."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from community import selectors as community_selectors


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        max_length=80,
        required=False,
        label="Action starts with",
        widget=forms.TextInput(attrs={"placeholder": "e.g. knowledge. or community.certification"}),
    )
    actor = forms.CharField(max_length=150, required=False, label="Actor username")


class CertificationGrantForm(forms.Form):
    user = forms.CharField(max_length=254, label="Member (username or email)")
    area = forms.ModelChoiceField(queryset=community_selectors.area_list(), label="Product area")
    expires_on = forms.DateField(label="Expires on", widget=forms.DateInput(attrs={"type": "date"}))

    # Service field names → this form's fields, for attaching service ValidationErrors.
    SERVICE_FIELDS = {"expires_at": "expires_on", "user": "user", "area": "area"}

    def clean_user(self):
        user = community_selectors.user_find_by_login(identifier=self.cleaned_data["user"])
        if user is None:
            raise forms.ValidationError("No member has that username or email.")
        return user

    @property
    def expires_at(self) -> dt.datetime:
        """The end of the chosen day in the site's time zone: a certification "until 31 May"
        is still valid on 31 May."""
        day = self.cleaned_data["expires_on"]
        return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


class CertificationRevokeForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Reason",
        error_messages={"required": "Give a reason for revoking the certification."},
    )
