"""Protocol pages forms: they parse input; ``services.protocol_save`` validates and writes."""

from __future__ import annotations

from django import forms
from django.forms import inlineformset_factory

from community.models import Tag
from community.services import normalize_tag_names

from ..models import EscalationStep, Protocol
from . import selectors


class ProtocolForm(forms.ModelForm):
    tag_names = forms.CharField(
        required=False,
        label="Tags",
        help_text="Existing tags, separated by spaces; a thread matches if it has any of them.",
    )

    class Meta:
        model = Protocol
        fields = [
            "name",
            "active",
            "priority",
            "area",
            "keywords",
            "severity",
            "trigger",
            "trigger_param",
            "assignee_rule",
            "assignee",
            "team",
            "response_guide",
        ]
        widgets = {"response_guide": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.staff_member_list()
        self.fields["team"].queryset = selectors.team_list()
        if self.instance.pk:
            self.fields["tag_names"].initial = " ".join(t.slug for t in self.instance.tags.all())

    def clean_tag_names(self) -> list[Tag]:
        names = normalize_tag_names(self.cleaned_data["tag_names"])
        tags = {t.slug: t for t in Tag.objects.filter(slug__in=names)}
        unknown = [n for n in names if n not in tags]
        if unknown:
            raise forms.ValidationError(f"No such tag: {', '.join(unknown)}.")
        return [tags[n] for n in names]


class EscalationStepForm(forms.ModelForm):
    class Meta:
        model = EscalationStep
        fields = [
            "level",
            "name",
            "timeout_minutes",
            "assignee_rule",
            "assignee",
            "team",
            "response_guide",
        ]
        widgets = {"response_guide": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.staff_member_list()
        self.fields["team"].queryset = selectors.team_list()


EscalationStepFormSet = inlineformset_factory(
    Protocol, EscalationStep, form=EscalationStepForm, extra=2, can_delete=True
)


class ReassignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=None, label="Assign to")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.staff_member_list()
