"""Notification page forms: they shape input; the services own the rules."""

from __future__ import annotations

from django import forms

from ..models import DeliveryMode, NotificationKind


class PreferencesForm(forms.Form):
    """One radio group per kind of notification: instant email, daily digest or no email."""

    def __init__(self, *args, kinds: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind in kinds:
            self.fields[kind] = forms.ChoiceField(
                label=NotificationKind(kind).label,
                choices=DeliveryMode.choices,
                widget=forms.RadioSelect,
            )
