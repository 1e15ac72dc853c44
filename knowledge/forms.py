"""HTML forms for the knowledge base. They parse input only; services validate and write."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError

from .search.base import DOC_TYPE_LABELS

SEARCH_TYPE_CHOICES = [
    ("", "Everything"),
    ("article", DOC_TYPE_LABELS["article"]),
    ("thread_accepted", DOC_TYPE_LABELS["thread_accepted"]),
    ("thread", "Any community thread"),
]


def add_service_errors(
    form: forms.Form, exc: ValidationError, field_map: Mapping[str, str] | None = None
) -> None:
    """Attach a service's ValidationError to ``form``: known fields get their messages, the rest
    become non-field errors (a service may name a field the form spells differently or lacks)."""
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, messages in exc.message_dict.items():
        field = field_map.get(name, name)
        form.add_error(field if field in form.fields else None, messages)


class ValidateForm(forms.Form):
    note = forms.CharField(
        max_length=500,
        required=False,
        label="Note",
        help_text="Optional: why this answer is right (shown with the validation).",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Confirmed on firmware 4.2"}),
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        label="Reason",
        error_messages={"required": "Say briefly why the validation is revoked."},
        widget=forms.TextInput(attrs={"placeholder": "Why is this validation withdrawn?"}),
    )


class ArticleEditForm(forms.Form):
    title = forms.CharField(max_length=200)
    problem = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), help_text="Markdown.")
    solution = forms.CharField(widget=forms.Textarea(attrs={"rows": 14}), help_text="Markdown.")
    note = forms.CharField(
        max_length=300, required=False, label="Edit summary", help_text="Shown in the history."
    )


class SearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, label="Search")
    area = forms.SlugField(required=False)
    tag = forms.SlugField(max_length=64, required=False)
    type = forms.ChoiceField(choices=SEARCH_TYPE_CHOICES, required=False)
    page = forms.IntegerField(min_value=1, max_value=1000, required=False)

    def params(self) -> dict:
        """Cleaned parameters; invalid values fall back to their defaults (a hand-edited URL
        should still search rather than fail)."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.fields}
        return {
            "q": (data["q"] or "").strip(),
            "area": data["area"] or None,
            "tag": data["tag"] or None,
            "type": data["type"] or None,
            "page": data["page"] or 1,
        }
