"""Staff page forms. They parse input; community services validate and write."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils import timezone

from community import selectors as community_selectors
from community.models import Sanction

from .models import Flag
from .selectors import QUEUE_AGES
from .services import BULK_ACTIONS


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        max_length=80,
        required=False,
        label="Action starts with",
        widget=forms.TextInput(attrs={"placeholder": "e.g. knowledge. or community.certification"}),
    )
    actor = forms.CharField(max_length=150, required=False, label="Actor username")
    target = forms.CharField(
        max_length=100,
        required=False,
        label="Target",
        widget=forms.TextInput(attrs={"placeholder": "e.g. community.question:12"}),
    )
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"})
    )

    def selector_filters(self) -> dict:
        """The valid filters as ``community.selectors.audit_entry_list`` keyword arguments; dates
        are whole days in the site's time zone."""
        data = self.cleaned_data if self.is_valid() else {}
        target_type, _, target_id = (data.get("target") or "").strip().partition(":")
        since, until = data.get("since"), data.get("until")
        return {
            "action_prefix": (data.get("action") or "").strip(),
            "actor_username": (data.get("actor") or "").strip(),
            "target_type": target_type.strip(),
            "target_id": target_id.strip(),
            "since": timezone.make_aware(dt.datetime.combine(since, dt.time.min))
            if since
            else None,
            "until": timezone.make_aware(dt.datetime.combine(until, dt.time.max))
            if until
            else None,
        }


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


# --- Moderation (issue 4): flags, the queue and moderator actions ----------------------------


def _question_number(value: str) -> int | None:
    """A question number from "123", "#123" or a thread URL ending in /questions/123/."""
    match = re.search(r"(\d+)/?\s*$", (value or "").strip())
    return int(match.group(1)) if match else None


class FlagForm(forms.Form):
    reason = forms.ChoiceField(choices=Flag.Reason.choices, widget=forms.RadioSelect)
    duplicate_of = forms.CharField(
        max_length=300,
        required=False,
        label="Duplicate of (question number or link)",
    )
    note = forms.CharField(
        max_length=500,
        required=False,
        label="Note for the moderators (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_duplicate_of(self):
        value = self.cleaned_data.get("duplicate_of", "")
        if not value:
            return None
        number = _question_number(value)
        question = community_selectors.question_list(viewer=None).filter(pk=number).first()
        if number is None or question is None:
            raise forms.ValidationError("No visible question has that number.")
        return question


class QueueFilterForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Any reason"), *Flag.Reason.choices], required=False)
    area = forms.ModelChoiceField(
        queryset=community_selectors.area_list(), required=False, empty_label="Any area"
    )
    age = forms.ChoiceField(
        choices=[(key, label) for key, (label, _o, _n) in QUEUE_AGES.items()], required=False
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Reason",
        error_messages={"required": "Give a reason; it goes in the audit log."},
    )


class OptionalReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False, label="Reason (optional)")


class PostEditForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 10}))
    tags = forms.CharField(max_length=400, required=False)
    reason = forms.CharField(
        max_length=300,
        label="Reason for the edit",
        error_messages={"required": "Say why you are editing this post."},
    )


class MoveForm(forms.Form):
    area = forms.ModelChoiceField(queryset=community_selectors.area_list(), label="Move to")
    reason = forms.CharField(max_length=300, required=False, label="Reason (optional)")


class MergeForm(forms.Form):
    canonical = forms.CharField(max_length=300, label="Merge into (question number or link)")
    reason = forms.CharField(max_length=300, required=False, label="Reason (optional)")

    def clean_canonical(self):
        number = _question_number(self.cleaned_data["canonical"])
        question = (
            community_selectors.question_list(viewer=None).filter(pk=number).first()
            if number
            else None
        )
        if question is None:
            raise forms.ValidationError("No visible question has that number.")
        return question


class SanctionForm(forms.Form):
    kind = forms.ChoiceField(choices=Sanction.Kind.choices, label="Sanction")
    days = forms.IntegerField(
        min_value=1,
        max_value=365,
        required=False,
        label="Suspension length (days)",
        help_text="Only for a suspension.",
    )
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give a reason; the member and the audit log see it."},
    )

    @property
    def duration(self) -> dt.timedelta | None:
        days = self.cleaned_data.get("days")
        return dt.timedelta(days=days) if days else None


class BulkForm(forms.Form):
    """The queue's bulk action: the checked rows arrive as repeated ``flags`` values."""

    action = forms.ChoiceField(choices=list(BULK_ACTIONS.items()))
    reason = forms.CharField(max_length=300, required=False)

    def clean(self):
        cleaned = super().clean()
        values = self.data.getlist("flags") if hasattr(self.data, "getlist") else []
        ids = sorted({int(v) for v in values if str(v).isdigit()})
        if not ids:
            raise forms.ValidationError("Select at least one flag.")
        cleaned["flags"] = ids
        return cleaned
